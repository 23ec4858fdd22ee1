import { ErrorState, Spinner } from "../ui/states";
import { useFetch } from "../ui/useFetch";
import type { FireTime } from "./api";
import { browserTimeZone, formatIn } from "./curl";

/** The next fire times, in the schedule's timezone and, when it differs, the viewer's. */
export function NextFireTimes({
  fetchKey,
  load,
  timeZone,
}: {
  fetchKey: string;
  load: (signal: AbortSignal) => Promise<FireTime[]>;
  timeZone: string;
}) {
  const state = useFetch<FireTime[]>(fetchKey, load);
  const mine = browserTimeZone();
  if (state.status === "loading") return <Spinner label="Next fire times…" />;
  if (state.status === "error") return <ErrorState error={state.error} onRetry={state.retry} />;
  if (state.data.length === 0) return <p className="muted small">Never fires.</p>;
  return (
    <ul className="small" data-testid="next-fire-times">
      {state.data.map((t) => (
        <li key={t.utc}>
          {formatIn(t.utc, timeZone)}
          {mine !== timeZone && <span className="muted"> · {formatIn(t.utc, mine)} for you</span>}
        </li>
      ))}
    </ul>
  );
}
