import { ListTable } from "../ui/ListTable";
import { useState } from "react";
import { Link } from "react-router";
import { ApiError } from "../api/client";
import { api } from "../api/endpoints";
import type { CredentialView } from "../api/types";
import { formatTime } from "../ui/format";
import { FormError } from "../ui/forms";
import { ErrorState, Spinner } from "../ui/states";
import { useFetch } from "../ui/useFetch";
import { triggersApi, type Delivery, type NotificationEvent, type Notifications, type NotificationTarget } from "./api";

/** The events a target can be told of, as the form names them ("when a run …"). */
const EVENT_LABELS: Record<NotificationEvent, string> = {
  failed: "failed",
  succeeded: "succeeded",
  waiting: "waits for an approval",
};
const MAX_TARGETS = 10;

/** A target as the form edits it: recipients as one text, every field present. */
export interface Draft {
  kind: NotificationTarget["kind"];
  on: NotificationEvent[];
  url: string;
  credential: string;
  to: string;
}

export function toDraft(target: NotificationTarget): Draft {
  return {
    kind: target.kind,
    on: target.on,
    url: target.url ?? "",
    credential: target.credential ?? "",
    to: (target.to ?? []).join(", "),
  };
}

export function toTarget(draft: Draft): NotificationTarget {
  if (draft.kind === "email") {
    return { kind: "email", on: draft.on, to: draft.to.split(/[\s,;]+/).filter(Boolean) };
  }
  return {
    kind: "webhook",
    on: draft.on,
    url: draft.url.trim(),
    ...(draft.credential ? { credential: draft.credential } : {}),
  };
}

function firstMessage(errors: unknown): string {
  if (typeof errors === "string") return errors;
  if (Array.isArray(errors)) return errors.length ? firstMessage(errors[0]) : "";
  if (errors && typeof errors === "object") {
    const [field, inner] = Object.entries(errors)[0] ?? ["", ""];
    const message = firstMessage(inner);
    return field && field !== "non_field_errors" ? `${field}: ${message}` : message;
  }
  return "";
}

/** The server's refusal of each target by its index (`fields.notifications` of a 400). */
export function targetErrors(error: unknown): Record<number, string> {
  const fields = error instanceof ApiError ? (error.body.fields as Record<string, unknown> | undefined) : undefined;
  const list = fields?.notifications;
  if (!list || typeof list !== "object" || Array.isArray(list)) return {};
  return Object.fromEntries(Object.entries(list).map(([index, errors]) => [Number(index), firstMessage(errors)]));
}

function TargetForm({
  draft,
  index,
  credentials,
  error,
  onChange,
  onRemove,
}: {
  draft: Draft;
  index: number;
  credentials: CredentialView[];
  error: string | undefined;
  onChange: (draft: Draft) => void;
  onRemove: () => void;
}) {
  const toggle = (event: NotificationEvent, checked: boolean) =>
    onChange({ ...draft, on: checked ? [...draft.on, event] : draft.on.filter((e) => e !== event) });
  return (
    <li className="panel-section" data-testid="notification-target">
      <div className="field-row">
        <label className="field">
          <span>Send</span>
          <select
            value={draft.kind}
            onChange={(e) => onChange({ ...draft, kind: e.target.value as Draft["kind"] })}
            aria-label={`Target ${index + 1} kind`}
          >
            <option value="webhook">a webhook (POST)</option>
            <option value="email">an email</option>
          </select>
        </label>
        <fieldset className="plain">
          <legend className="small">when a run</legend>
          {(Object.keys(EVENT_LABELS) as NotificationEvent[]).map((event) => (
            <label key={event} className="small">
              <input
                type="checkbox"
                checked={draft.on.includes(event)}
                onChange={(e) => toggle(event, e.target.checked)}
              />{" "}
              {EVENT_LABELS[event]}{" "}
            </label>
          ))}
        </fieldset>
      </div>
      {draft.kind === "webhook" ? (
        <div className="field-row">
          <label className="field">
            <span>URL</span>
            <input
              className="mono"
              value={draft.url}
              placeholder="https://ops.example.com/agentloom"
              onChange={(e) => onChange({ ...draft, url: e.target.value })}
              aria-label={`Target ${index + 1} URL`}
            />
          </label>
          <label className="field">
            <span>Signed with</span>
            <select
              value={draft.credential}
              onChange={(e) => onChange({ ...draft, credential: e.target.value })}
              aria-label={`Target ${index + 1} signing credential`}
            >
              <option value="">not signed</option>
              {credentials.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                </option>
              ))}
              {draft.credential && !credentials.some((c) => c.id === draft.credential) && (
                <option value={draft.credential}>{draft.credential}</option>
              )}
            </select>
          </label>
        </div>
      ) : (
        <label className="field">
          <span>To (comma-separated)</span>
          <input
            value={draft.to}
            placeholder="team@example.com"
            onChange={(e) => onChange({ ...draft, to: e.target.value })}
            aria-label={`Target ${index + 1} recipients`}
          />
        </label>
      )}
      <button type="button" className="button button-small button-danger" onClick={onRemove}>
        Remove
      </button>
      <FormError error={error ?? null} testId={`notification-target-error-${index}`} />
    </li>
  );
}

function TargetsEditor({
  initial,
  workflowId,
  workspace,
  readOnly,
  prepare,
  onSaved,
}: {
  initial: Notifications;
  workflowId: string;
  workspace: string;
  readOnly: boolean;
  prepare: () => Promise<number>;
  onSaved: (saved: Notifications) => void;
}) {
  const [drafts, setDrafts] = useState<Draft[]>(() => initial.notifications.map(toDraft));
  const [dirty, setDirty] = useState(false);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [savedAs, setSavedAs] = useState<number | null>(null);
  const credentials = useFetch<CredentialView[]>(readOnly ? null : workspace, () =>
    api.credentials(workspace).then((all) => all.filter((c) => c.provider === "http")),
  );
  const edit = (next: Draft[]) => {
    setDrafts(next);
    setDirty(true);
    setSavedAs(null);
  };
  const save = async () => {
    setSaving(true);
    setError(null);
    try {
      const version = await prepare();
      const saved = await triggersApi.putNotifications(workflowId, { version, notifications: drafts.map(toTarget) });
      setDrafts(saved.notifications.map(toDraft));
      setDirty(false);
      setSavedAs(saved.version);
      onSaved(saved);
    } catch (e: unknown) {
      setError(e);
    } finally {
      setSaving(false);
    }
  };
  const perTarget = targetErrors(error);
  // A refusal about one target is shown beside it; anything else (a conflict, the list) here.
  const message =
    error === null || Object.keys(perTarget).length > 0
      ? null
      : error instanceof Error
        ? error.message
        : "Something went wrong.";
  return (
    <fieldset disabled={readOnly} className="plain" data-testid="notification-targets">
      {drafts.length === 0 ? (
        <p className="muted small">No notification: nobody hears of a run's end.</p>
      ) : (
        <ul>
          {drafts.map((draft, index) => (
            <TargetForm
              key={index}
              draft={draft}
              index={index}
              credentials={credentials.status === "ready" ? credentials.data : []}
              error={perTarget[index]}
              onChange={(next) => edit(drafts.map((d, i) => (i === index ? next : d)))}
              onRemove={() => edit(drafts.filter((_, i) => i !== index))}
            />
          ))}
        </ul>
      )}
      {!readOnly && (
        <div>
          <button
            type="button"
            className="button"
            disabled={drafts.length >= MAX_TARGETS}
            onClick={() => edit([...drafts, { kind: "webhook", on: ["failed"], url: "", credential: "", to: "" }])}
          >
            Add a target
          </button>{" "}
          <button
            type="button"
            className="button button-primary"
            disabled={!dirty || saving}
            onClick={() => void save()}
            data-testid="save-notifications"
          >
            {saving ? "Saving…" : "Save notifications"}
          </button>{" "}
          {savedAs !== null && (
            <span className="muted small" role="status">
              Saved as version {savedAs}.
            </span>
          )}
        </div>
      )}
      <FormError error={message} testId="notifications-error" />
    </fieldset>
  );
}

/** The latest notification deliveries of the workflow's runs, with their attempts and answers. */
function DeliveryLog({ workflowId, version }: { workflowId: string; version: number }) {
  const state = useFetch<Delivery[]>(`${workflowId}:${version}`, (signal) =>
    triggersApi.deliveries(workflowId, signal),
  );
  if (state.status === "loading") return <Spinner label="Last deliveries…" />;
  if (state.status === "error") return <ErrorState error={state.error} onRetry={state.retry} />;
  if (state.data.length === 0) return <p className="muted small">Nothing delivered yet.</p>;
  return (
    <ListTable columns={["When", "Run", "Event", "To", "State", "Attempts", "Answer"]} testId="notification-deliveries">
      {state.data.map((d) => (
        <tr key={d.id} data-testid="notification-delivery">
          <td className="small">{formatTime(d.delivered_at ?? d.created_at)}</td>
          <td className="mono small">
            <Link to={`/runs/${d.run}`}>{d.run.slice(0, 8)}</Link>
          </td>
          <td>{d.event}</td>
          <td className="small">
            {d.kind}: <span className="mono">{d.destination}</span>
          </td>
          <td>
            <span className={`state-badge delivery-${d.state ?? "pending"}`}>{d.state}</span>
          </td>
          <td>{d.attempts}</td>
          <td className="small" title={d.last_error || undefined}>
            {d.last_status ?? (d.last_error ? "error" : "—")}
            {d.last_error && <span className="muted"> · {d.last_error}</span>}
          </td>
        </tr>
      ))}
    </ListTable>
  );
}

export interface NotificationsProps {
  workflowId: string;
  workspace: string;
  readOnly: boolean;
  /** Saves the editor's pending edits and gives the version the change is made against. */
  prepare: () => Promise<number>;
  /** The new version: the editor takes it, so its next save keeps the targets. */
  onSaved: (saved: Notifications) => void;
}

/** Where a run's end is reported (`settings.notifications`, docs/triggers.md) and how that went. */
export function NotificationsSection(props: NotificationsProps) {
  const { workflowId } = props;
  const [version, setVersion] = useState(0);
  const state = useFetch<Notifications>(workflowId, (signal) => triggersApi.notifications(workflowId, signal));
  return (
    <section aria-label="Notifications" data-testid="notifications">
      <h3 className="panel-title">Notifications</h3>
      {state.status === "loading" && <Spinner />}
      {state.status === "error" && <ErrorState error={state.error} onRetry={state.retry} />}
      {state.status === "ready" && <TargetsEditor initial={state.data} {...props} />}
      <h4 className="small">
        Last deliveries{" "}
        <button type="button" className="button button-small" onClick={() => setVersion((n) => n + 1)}>
          Refresh
        </button>
      </h4>
      <DeliveryLog workflowId={workflowId} version={version} />
    </section>
  );
}
