import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { WorkflowStats } from "../../api/endpoints";
import { fakeApi } from "../../test/fakeApi";
import { RunsPerDayChart, StatsPanel } from "./StatsPanel";

const WF = "22222222-2222-2222-2222-222222222222";

function stats(days: number): WorkflowStats {
  const per_day = Array.from({ length: days }, (_, i) => ({
    day: `2026-11-${String(i + 1).padStart(2, "0")}`,
    runs: i === days - 1 ? 4 : 0,
    succeeded: i === days - 1 ? 3 : 0,
    failed: i === days - 1 ? 1 : 0,
  }));
  return {
    workflow: WF,
    days,
    since: "2026-11-01T00:00:00Z",
    runs: { queued: 0, running: 0, succeeded: 3, failed: 1, cancelled: 0, total: 4 },
    success_rate: 0.75,
    duration_p50_s: 2.5,
    duration_p95_s: 61,
    prompt_tokens: 1000,
    completion_tokens: 234,
    cost_usd: 0.5,
    slowest_nodes: [{ node_id: "writer", node_type: "researcher", runs: 3, mean_s: 1.5, max_s: 2 }],
    per_day,
  };
}

afterEach(() => vi.unstubAllGlobals());

describe("StatsPanel", () => {
  it("shows the figures, one bar per day and the slowest nodes, and changes the window", async () => {
    const calls = fakeApi({
      [`GET /api/v1/workflows/${WF}/stats/`]: (_, url) => ({ body: stats(Number(url.searchParams.get("days"))) }),
    });
    render(<StatsPanel workflowId={WF} onClose={() => {}} />);
    const figures = await screen.findByTestId("stats-figures");
    expect(within(figures).getByText("75%")).toBeTruthy();
    expect(within(figures).getByText("2.50 s")).toBeTruthy();
    expect(within(figures).getByText("1 min 1 s")).toBeTruthy();
    expect(within(figures).getByText("1,234")).toBeTruthy();
    expect(screen.getAllByTestId("day-bar")).toHaveLength(30);
    expect(within(screen.getByTestId("slowest-nodes")).getByText("writer")).toBeTruthy();
    expect(calls[0]?.query).toBe("?days=30");

    fireEvent.click(screen.getByRole("button", { name: "7 days" }));
    await waitFor(() => expect(screen.getAllByTestId("day-bar")).toHaveLength(7));
    expect(calls.at(-1)?.query).toBe("?days=7");
  });

  it("offers to try again when the stats cannot be read", async () => {
    fakeApi({});
    render(<StatsPanel workflowId={WF} onClose={() => {}} />);
    expect(await screen.findByRole("button", { name: /try again/i })).toBeTruthy();
  });
});

describe("RunsPerDayChart", () => {
  it("scales bars to the busiest day and draws an empty window flat", () => {
    const { container, rerender } = render(<RunsPerDayChart days={stats(3).per_day} />);
    const heights = [...container.querySelectorAll("g > rect:first-of-type")].map((r) =>
      Number(r.getAttribute("height")),
    );
    expect(heights).toEqual([0, 0, 80]);
    rerender(<RunsPerDayChart days={stats(3).per_day.map((d) => ({ ...d, runs: 0, succeeded: 0, failed: 0 }))} />);
    const flat = [...container.querySelectorAll("rect")].map((r) => Number(r.getAttribute("height")));
    expect(flat.every((h) => h === 0)).toBe(true);
  });
});
