import { useState, type FormEvent } from "react";
import { FormError } from "../ui/forms";
import { ErrorState, Spinner } from "../ui/states";
import { useFetch } from "../ui/useFetch";
import { triggersApi, type Schedule } from "./api";
import { browserTimeZone } from "./curl";
import { NextFireTimes } from "./NextFireTimes";

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : "Something went wrong.";
}

function ScheduleRow({ schedule, onChanged }: { schedule: Schedule; onChanged: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const act = (action: () => Promise<unknown>) => action().then(onChanged, (e: unknown) => setError(messageOf(e)));
  return (
    <li className="panel-section" data-testid="schedule-row">
      <div>
        <code>{schedule.cron}</code> <span className="muted small">({schedule.timezone})</span>
      </div>
      <label className="small">
        <input
          type="checkbox"
          checked={schedule.enabled ?? true}
          onChange={(e) => act(() => triggersApi.patchSchedule(schedule.id, { enabled: e.target.checked }))}
        />{" "}
        Enabled
      </label>{" "}
      <button type="button" className="button" onClick={() => act(() => triggersApi.deleteSchedule(schedule.id))}>
        Delete
      </button>
      {schedule.enabled !== false && (
        <NextFireTimes
          fetchKey={`${schedule.id}:${schedule.updated_at}`}
          load={(signal) => triggersApi.preview(schedule.id, 3, signal)}
          timeZone={schedule.timezone ?? "UTC"}
        />
      )}
      <FormError error={error} />
    </li>
  );
}

function NewSchedule({ workflowId, onCreated }: { workflowId: string; onCreated: () => void }) {
  const [cron, setCron] = useState("0 9 * * 1-5");
  const [timezone, setTimezone] = useState(browserTimeZone());
  const [overlap, setOverlap] = useState<Schedule["overlap"]>("skip");
  const [catchUp, setCatchUp] = useState<Schedule["catch_up"]>("none");
  const [error, setError] = useState<string | null>(null);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    triggersApi
      .createSchedule({ workflow: workflowId, cron, timezone, overlap, catch_up: catchUp })
      .then(onCreated, (e: unknown) => setError(messageOf(e)));
  };
  return (
    <form onSubmit={submit} aria-label="New schedule" data-testid="new-schedule">
      <label>
        Cron <input value={cron} onChange={(e) => setCron(e.target.value)} aria-label="Cron" />
      </label>{" "}
      <label>
        Timezone <input value={timezone} onChange={(e) => setTimezone(e.target.value)} aria-label="Timezone" />
      </label>{" "}
      <label>
        If still running{" "}
        <select value={overlap} onChange={(e) => setOverlap(e.target.value as Schedule["overlap"])}>
          <option value="skip">skip</option>
          <option value="queue">queue</option>
          <option value="allow">allow</option>
        </select>
      </label>{" "}
      <label>
        Missed slots{" "}
        <select value={catchUp} onChange={(e) => setCatchUp(e.target.value as Schedule["catch_up"])}>
          <option value="none">skip</option>
          <option value="latest">run the latest</option>
        </select>
      </label>{" "}
      <button type="submit" className="button button-primary">
        Add schedule
      </button>
      <FormError error={error} testId="schedule-error" />
    </form>
  );
}

/** A workflow's cron schedules with their next fire times. */
export function SchedulesSection({ workflowId }: { workflowId: string }) {
  const [version, setVersion] = useState(0);
  const state = useFetch<Schedule[]>(`${workflowId}:${version}`, () => triggersApi.schedules(workflowId));
  const reload = () => setVersion((n) => n + 1);
  return (
    <section aria-label="Schedules" data-testid="schedules">
      <h3 className="panel-title">Schedules</h3>
      {state.status === "loading" && <Spinner />}
      {state.status === "error" && <ErrorState error={state.error} onRetry={state.retry} />}
      {state.status === "ready" &&
        (state.data.length === 0 ? (
          <p className="muted small">No schedule.</p>
        ) : (
          <ul>
            {state.data.map((s) => (
              <ScheduleRow key={s.id} schedule={s} onChanged={reload} />
            ))}
          </ul>
        ))}
      <NewSchedule workflowId={workflowId} onCreated={reload} />
    </section>
  );
}
