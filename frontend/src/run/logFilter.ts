import type { LogEntry } from "../live/runState";
import type { LogLevel } from "../live/protocol";

export interface LogFilter {
  levels: ReadonlySet<LogLevel>;
  search: string;
  nodeId: string;
}

export function filterLogs(logs: readonly LogEntry[], f: LogFilter): readonly LogEntry[] {
  const q = f.search.trim().toLowerCase();
  if (!q && !f.nodeId && f.levels.size === 4) return logs;
  return logs.filter(
    (l) =>
      f.levels.has(l.level) &&
      (!f.nodeId || l.nodeId === f.nodeId) &&
      (!q || l.message.toLowerCase().includes(q) || (l.nodeId ?? "").toLowerCase().includes(q)),
  );
}
