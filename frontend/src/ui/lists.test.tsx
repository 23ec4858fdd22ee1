import { act, fireEvent, render, renderHook, screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { Page } from "../api/types";
import { Chip, Chips } from "./Chip";
import { ListBody } from "./states";
import { usePagedList } from "./usePagedList";

type Row = { id: string };
const page = (ids: string[], next: string | null = null) =>
  ({ count: ids.length, next, previous: null, results: ids.map((id) => ({ id })) }) as Page<Row>;

describe("usePagedList", () => {
  it("appends a page without the rows it already has, and keeps setItems while the key stays", async () => {
    const { result, rerender } = renderHook(({ key }) => usePagedList<Row>(key, async () => page(["a", "b"], "p2")), {
      initialProps: { key: "k" },
    });
    await waitFor(() => expect(result.current.status).toBe("ready"));
    const setItems = result.current.setItems;
    act(() => result.current.append(page(["b", "c"])));
    expect(result.current.items.map((r) => r.id)).toEqual(["a", "b", "c"]);
    expect(result.current.next).toBeNull();
    rerender({ key: "k" });
    expect(result.current.setItems).toBe(setItems);
  });

  it("loads again on retry after an error", async () => {
    let calls = 0;
    const { result } = renderHook(() =>
      usePagedList<Row>("k", async () => {
        calls += 1;
        if (calls === 1) throw new Error("down");
        return page(["a"]);
      }),
    );
    await waitFor(() => expect(result.current.status).toBe("error"));
    act(() => result.current.retry());
    expect(result.current.status).toBe("loading");
    await waitFor(() => expect(result.current.status).toBe("ready"));
    expect(result.current.items.map((r) => r.id)).toEqual(["a"]);
  });
});

describe("ListBody", () => {
  const retry = () => undefined;
  it("shows the spinner, the error, the empty state or the list", () => {
    const body = (status: "loading" | "error" | "ready", count: number) => (
      <ListBody list={{ status, error: new Error("boom"), retry }} count={count} empty={<p>none</p>}>
        <p>rows</p>
      </ListBody>
    );
    const { rerender } = render(body("loading", 0));
    expect(screen.getByRole("status")).not.toBeNull();
    rerender(body("error", 0));
    expect(screen.getByTestId("error-state").textContent).toContain("boom");
    rerender(body("ready", 0));
    expect(screen.getByText("none")).not.toBeNull();
    rerender(body("ready", 2));
    expect(screen.getByText("rows")).not.toBeNull();
  });
});

describe("Chip", () => {
  it("is a pressed toggle when active", () => {
    let clicked = 0;
    render(
      <Chips label="Levels">
        <Chip active onClick={() => (clicked += 1)} className="level-info" testId="chip">
          info
        </Chip>
      </Chips>,
    );
    const chip = screen.getByTestId("chip");
    expect(chip.getAttribute("aria-pressed")).toBe("true");
    expect(chip.className).toBe("chip level-info chip-active");
    expect(screen.getByRole("group", { name: "Levels" })).not.toBeNull();
    fireEvent.click(chip);
    expect(clicked).toBe(1);
  });
});
