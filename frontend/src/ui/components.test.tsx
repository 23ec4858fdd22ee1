import { fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import type { Workflow } from "../api/types";
import { ConflictDialog } from "../editor/components/ConflictDialog";
import { PromptEditor } from "../editor/components/PromptEditor";
import { generateLayeredDocument } from "../doc/generate";
import { mergeDocuments } from "../doc/merge";
import { Dialog } from "./Dialog";

describe("Dialog", () => {
  it("moves focus in, traps Tab, closes on Escape and gives focus back", () => {
    const opener = document.createElement("button");
    document.body.appendChild(opener);
    opener.focus();
    const onClose = vi.fn();
    const { unmount } = render(
      <Dialog title="Hello" onClose={onClose}>
        <button type="button">First</button>
        <button type="button">Last</button>
      </Dialog>,
    );
    const dialog = screen.getByRole("dialog", { name: "Hello" });
    expect(dialog.getAttribute("aria-modal")).toBe("true");
    const close = screen.getByRole("button", { name: "Close" });
    expect(document.activeElement).toBe(close);
    const last = screen.getByRole("button", { name: "Last" });
    last.focus();
    fireEvent.keyDown(dialog, { key: "Tab" });
    expect(document.activeElement).toBe(close);
    fireEvent.keyDown(dialog, { key: "Tab", shiftKey: true });
    expect(document.activeElement).toBe(last);
    fireEvent.keyDown(dialog, { key: "Escape" });
    expect(onClose).toHaveBeenCalledTimes(1);
    unmount();
    expect(document.activeElement).toBe(opener);
    opener.remove();
  });
});

/** The workflow as another user saved it: version 5 by bob. */
function savedByBob(document: Workflow["document"]): Workflow {
  return { id: "w", version: 5, document, updated_by: "bob", updated_at: "2026-01-01T00:00:00Z" } as Workflow;
}

describe("ConflictDialog", () => {
  it("shows theirs beside mine and offers both choices", () => {
    const theirsDoc = generateLayeredDocument(4, 1);
    const mine = structuredClone(theirsDoc);
    mine.nodes.push({ id: "coder-9", type: "coder", position: { x: 0, y: 0 }, data: { label: "x", config: {} } });
    const theirs = savedByBob(theirsDoc);
    const onReload = vi.fn();
    const onKeep = vi.fn();
    render(<ConflictDialog mine={mine} theirs={theirs} currentVersion={5} onReload={onReload} onKeepMine={onKeep} />);
    expect(screen.getByTestId("conflict-theirs").textContent).toContain("bob");
    expect(screen.getByTestId("conflict-mine").textContent).toContain("5");
    expect(screen.getByTestId("conflict-diff").textContent).toContain("+ node coder-9");
    // Escape does not dismiss: a choice is required.
    fireEvent.keyDown(screen.getByTestId("conflict-dialog"), { key: "Escape" });
    expect(screen.queryByTestId("conflict-dialog")).not.toBeNull();
    fireEvent.click(screen.getByTestId("conflict-keep-mine"));
    fireEvent.click(screen.getByTestId("conflict-reload"));
    expect(onKeep).toHaveBeenCalledTimes(1);
    expect(onReload).toHaveBeenCalledTimes(1);
  });
});

describe("PromptEditor", () => {
  it("highlights placeholders and lists problems", () => {
    const onChange = vi.fn();
    const { container } = render(
      <PromptEditor
        id="p"
        value="Hi {{ $.run.topic }} and {{ $.run.nope }} {{ oops"
        onChange={onChange}
        declaredInputs={["topic"]}
        testId="prompt"
      />,
    );
    const marks = container.querySelectorAll("mark.ph");
    expect(marks).toHaveLength(3);
    expect(container.querySelectorAll("mark.ph-error")).toHaveLength(1);
    const issues = screen.getByTestId("prompt-issues").textContent ?? "";
    expect(issues).toContain('"nope"');
    expect(issues).toContain("no closing");
    fireEvent.change(screen.getByTestId("prompt"), { target: { value: "x" } });
    expect(onChange).toHaveBeenCalledWith("x");
  });

  it("offers merge both with what it keeps", () => {
    const base = generateLayeredDocument(4, 1);
    const theirsDoc = structuredClone(base);
    theirsDoc.nodes.push({
      id: "coder-9",
      type: "coder",
      position: { x: 0, y: 0 },
      data: { label: "theirs", config: {} },
    });
    const mine = structuredClone(base);
    mine.nodes.push({ id: "coder-9", type: "coder", position: { x: 0, y: 0 }, data: { label: "mine", config: {} } });
    const theirs = savedByBob(theirsDoc);
    const onMerge = vi.fn();
    render(
      <ConflictDialog
        mine={mine}
        theirs={theirs}
        currentVersion={5}
        base={base}
        merge={mergeDocuments(base, theirsDoc, mine)}
        onReload={() => undefined}
        onKeepMine={() => undefined}
        onMerge={onMerge}
      />,
    );
    const summary = screen.getByTestId("conflict-merge-summary").textContent ?? "";
    expect(summary).toContain(`${base.nodes.length + 2} nodes`);
    expect(summary).toContain("coder-9 becomes coder-10");
    expect(screen.getByTestId("conflict-their-changes").textContent).toContain("+ node coder-9");
    expect(screen.getByTestId("conflict-diff").textContent).toContain("+ node coder-9");
    fireEvent.click(screen.getByTestId("conflict-merge"));
    expect(onMerge).toHaveBeenCalledTimes(1);
  });
});
