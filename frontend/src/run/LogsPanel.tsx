import { useVirtualizer } from "@tanstack/react-virtual";
import { useDeferredValue, useEffect, useMemo, useRef, useState } from "react";
import { LOG_LEVELS, type LogLevel } from "../live/protocol";
import { Chip, Chips } from "../ui/Chip";
import { SearchField } from "../ui/SearchField";
import { useRunView } from "./context";
import { filterLogs } from "./logFilter";

const ROW = 22;

/** Virtualised logs with level, node and text filters; follows the tail unless scrolled up. */
export function LogsPanel({ nodeIds, focusNode }: { nodeIds: string[]; focusNode: string | null }) {
  const logs = useRunView((s) => s.logs);
  const deferred = useDeferredValue(logs);
  const [levels, setLevels] = useState<Set<LogLevel>>(() => new Set(LOG_LEVELS));
  const [search, setSearch] = useState("");
  const [nodeFilter, setNodeFilter] = useState("");
  const [follow, setFollow] = useState(true);
  const [prevFocus, setPrevFocus] = useState(focusNode);
  if (prevFocus !== focusNode) {
    setPrevFocus(focusNode);
    if (focusNode) setNodeFilter(focusNode);
  }
  const q = useDeferredValue(search);
  const rows = useMemo(
    () => filterLogs(deferred, { levels, search: q, nodeId: nodeFilter }),
    [deferred, levels, q, nodeFilter],
  );
  const scroller = useRef<HTMLDivElement>(null);
  // eslint-disable-next-line react-hooks/incompatible-library -- the virtualizer is used as documented
  const v = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW,
    overscan: 20,
  });

  useEffect(() => {
    if (follow && rows.length) v.scrollToIndex(rows.length - 1, { align: "end" });
  }, [rows.length, follow, v]);

  const toggle = (l: LogLevel) =>
    setLevels((s) => {
      const n = new Set(s);
      if (n.has(l)) n.delete(l);
      else n.add(l);
      return n;
    });

  return (
    <section className="logs" data-testid="log-panel" aria-label="Logs">
      <div className="logs-filters">
        <Chips label="Levels">
          {LOG_LEVELS.map((l) => (
            <Chip
              key={l}
              active={levels.has(l)}
              onClick={() => toggle(l)}
              className={`level-${l}`}
              testId={`log-level-${l}`}
            >
              {l}
            </Chip>
          ))}
        </Chips>
        <label className="field-inline">
          <span className="sr-only">Node</span>
          <select value={nodeFilter} onChange={(e) => setNodeFilter(e.target.value)} data-testid="log-node-filter">
            <option value="">All nodes</option>
            {nodeIds.map((id) => (
              <option key={id} value={id}>
                {id}
              </option>
            ))}
          </select>
        </label>
        <SearchField
          label="Search logs"
          placeholder="Search logs"
          value={search}
          onChange={setSearch}
          testId="log-search"
        />
        <label className="check small">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} />
          Follow
        </label>
        <span className="muted small" data-testid="log-count">
          {rows.length} / {logs.length}
        </span>
      </div>
      <div
        className="logs-scroll"
        ref={scroller}
        tabIndex={0}
        aria-label="Log lines"
        onWheel={(e) => {
          if (e.deltaY < 0 && follow) setFollow(false);
        }}
      >
        {rows.length === 0 ? (
          <p className="muted small logs-empty">{logs.length ? "No log line matches." : "No logs yet."}</p>
        ) : (
          <div style={{ height: v.getTotalSize(), position: "relative" }}>
            {v.getVirtualItems().map((item) => {
              const l = rows[item.index]!;
              return (
                <div
                  key={l.seq + ":" + item.index}
                  className={`log-row level-${l.level}${l.system ? " is-system" : ""}`}
                  style={{ transform: `translateY(${item.start}px)`, height: ROW }}
                  data-testid="log-row"
                >
                  <span className="log-time">{l.ts.slice(11, 23)}</span>
                  <span className={`log-level level-${l.level}`}>{l.level}</span>
                  <span className="log-node">{l.nodeId ?? "run"}</span>
                  <span className="log-msg" title={l.message}>
                    {l.message}
                  </span>
                </div>
              );
            })}
          </div>
        )}
      </div>
    </section>
  );
}
