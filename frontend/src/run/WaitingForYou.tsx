import { useEffect } from "react";
import { NavLink } from "react-router";
import { useApprovals } from "./approvals";

const POLL_MS = 30_000;

/** The header's count of approvals waiting for the user; it opens the run that has waited longest. */
export function WaitingForYou() {
  const waiting = useApprovals((s) => s.waiting);
  const refresh = useApprovals((s) => s.refresh);
  useEffect(() => {
    void refresh();
    const timer = window.setInterval(() => void refresh(), POLL_MS);
    const onFocus = () => void refresh();
    window.addEventListener("focus", onFocus);
    return () => {
      window.clearInterval(timer);
      window.removeEventListener("focus", onFocus);
    };
  }, [refresh]);
  const oldest = waiting[0];
  if (!oldest) return null;
  return (
    <NavLink
      to={`/runs/${oldest.run}?node=${encodeURIComponent(oldest.node_id)}`}
      className="waiting-for-you"
      data-testid="waiting-for-you"
      title={waiting.map((a) => `${a.workflow_name} · ${a.node_label}`).join("\n")}
    >
      {waiting.length} waiting for you
    </NavLink>
  );
}
