import { ListTable } from "../ui/ListTable";
import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import type { Run } from "../api/types";
import { formatTime } from "../ui/format";
import { FormError } from "../ui/forms";
import { StateBadge } from "../ui/StateBadge";
import { ErrorState, Spinner } from "../ui/states";
import { useFetch } from "../ui/useFetch";
import { triggersApi, type Webhook } from "./api";
import { CurlExample } from "./CurlExample";

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : "Something went wrong.";
}

function absolute(url: string): string {
  return typeof window === "undefined" ? url : new URL(url, window.location.origin).toString();
}

/** The secret, once, with the curl recipe that uses it. */
function SecretOnce({ url, secret }: { url: string; secret: string }) {
  return (
    <div role="status" data-testid="webhook-secret">
      <p className="small">
        The signing secret, shown this once: <code>{secret}</code>
      </p>
      <CurlExample url={absolute(url)} secret={secret} />
    </div>
  );
}

function WebhookRow({ webhook, onChanged }: { webhook: Webhook; onChanged: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const act = (action: () => Promise<unknown>) => action().then(onChanged, (e: unknown) => setError(messageOf(e)));
  const rotate = () =>
    triggersApi.rotateSecret(webhook.id).then(
      (r) => setSecret(r.secret),
      (e: unknown) => setError(messageOf(e)),
    );
  return (
    <li className="panel-section" data-testid="webhook-row">
      <div>
        <strong>{webhook.name}</strong> <code className="small">{absolute(webhook.url)}</code>
      </div>
      <label className="small">
        <input
          type="checkbox"
          checked={webhook.enabled ?? true}
          onChange={(e) => act(() => triggersApi.patchWebhook(webhook.id, { enabled: e.target.checked }))}
        />{" "}
        Enabled
      </label>{" "}
      <button type="button" className="button" onClick={() => void rotate()}>
        New secret
      </button>{" "}
      <button type="button" className="button" onClick={() => act(() => triggersApi.deleteWebhook(webhook.id))}>
        Delete
      </button>
      {secret ? <SecretOnce url={webhook.url} secret={secret} /> : <CurlExample url={absolute(webhook.url)} />}
      <FormError error={error} />
    </li>
  );
}

function NewWebhook({ workflowId, onCreated }: { workflowId: string; onCreated: () => void }) {
  const [name, setName] = useState("");
  const [respond, setRespond] = useState<Webhook["respond"]>("accepted");
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<{ url: string; secret: string } | null>(null);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    triggersApi.createWebhook({ workflow: workflowId, name, respond }).then(
      (w) => {
        setCreated({ url: w.url, secret: w.secret });
        setName("");
        onCreated();
      },
      (e: unknown) => setError(messageOf(e)),
    );
  };
  return (
    <form onSubmit={submit} aria-label="New webhook" data-testid="new-webhook">
      <label>
        Name <input value={name} onChange={(e) => setName(e.target.value)} aria-label="Webhook name" />
      </label>{" "}
      <label>
        Answer{" "}
        <select value={respond} onChange={(e) => setRespond(e.target.value as Webhook["respond"])}>
          <option value="accepted">at once (202)</option>
          <option value="output">with the run's output</option>
        </select>
      </label>{" "}
      <button type="submit" className="button button-primary" disabled={!name.trim()}>
        Add webhook
      </button>
      <FormError error={error} testId="webhook-error" />
      {created && <SecretOnce url={created.url} secret={created.secret} />}
    </form>
  );
}

/** The latest runs webhooks started: the calls that got through (a refused call starts nothing). */
function WebhookCalls({ workflowId, version }: { workflowId: string; version: number }) {
  const state = useFetch<Run[]>(`${workflowId}:${version}`, (signal) => triggersApi.webhookRuns(workflowId, signal));
  if (state.status === "loading") return <Spinner label="Last calls…" />;
  if (state.status === "error") return <ErrorState error={state.error} onRetry={state.retry} />;
  if (state.data.length === 0) return <p className="muted small">No run started by a webhook yet.</p>;
  return (
    <ListTable columns={["Received", "Run", "State"]} testId="webhook-calls">
      {state.data.map((run) => (
        <tr key={run.id}>
          <td className="small">{formatTime(run.created_at)}</td>
          <td className="mono small">
            <Link to={`/runs/${run.id}`}>{run.id.slice(0, 8)}</Link>
          </td>
          <td>
            <StateBadge state={run.state} />
          </td>
        </tr>
      ))}
    </ListTable>
  );
}

/** A workflow's webhook triggers: URL, a signed curl example, enable, rotate the secret, the last calls. */
export function WebhooksSection({ workflowId }: { workflowId: string }) {
  const [version, setVersion] = useState(0);
  const state = useFetch<Webhook[]>(`${workflowId}:${version}`, () => triggersApi.webhooks(workflowId));
  const reload = () => setVersion((n) => n + 1);
  return (
    <section aria-label="Webhooks" data-testid="webhooks">
      <h3 className="panel-title">Webhooks</h3>
      {state.status === "loading" && <Spinner />}
      {state.status === "error" && <ErrorState error={state.error} onRetry={state.retry} />}
      {state.status === "ready" &&
        (state.data.length === 0 ? (
          <p className="muted small">No webhook.</p>
        ) : (
          <ul>
            {state.data.map((w) => (
              <WebhookRow key={w.id} webhook={w} onChanged={reload} />
            ))}
          </ul>
        ))}
      <NewWebhook workflowId={workflowId} onCreated={reload} />
      {state.status === "ready" && state.data.length > 0 && (
        <>
          <h4 className="small">
            Last calls{" "}
            <button type="button" className="button button-small" onClick={reload}>
              Refresh
            </button>
          </h4>
          <WebhookCalls workflowId={workflowId} version={version} />
        </>
      )}
    </section>
  );
}
