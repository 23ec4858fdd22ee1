import { describe, expect, it } from "vitest";
import { ACTIONS, ACTION_IDS, type ActionContext } from "./actions";
import { createEditorStore } from "./store";
import { isTypingTarget, matchShortcut, titleWithKeys } from "./shortcuts";

const key = (k: string, mods: Partial<{ ctrl: boolean; meta: boolean; shift: boolean; alt: boolean }> = {}) => ({
  key: k,
  ctrlKey: !!mods.ctrl,
  metaKey: !!mods.meta,
  shiftKey: !!mods.shift,
  altKey: !!mods.alt,
});

describe("shortcuts", () => {
  it("maps keys to actions", () => {
    expect(matchShortcut(key("z", { ctrl: true }))).toBe("undo");
    expect(matchShortcut(key("z", { meta: true }))).toBe("undo");
    expect(matchShortcut(key("Z", { ctrl: true, shift: true }))).toBe("redo");
    expect(matchShortcut(key("y", { ctrl: true }))).toBe("redo");
    expect(matchShortcut(key("Delete"))).toBe("delete");
    expect(matchShortcut(key("Backspace"))).toBe("delete");
    expect(matchShortcut(key("?", { shift: true }))).toBe("help");
    expect(matchShortcut(key("L", { shift: true }))).toBe("layout");
    expect(matchShortcut(key("a", { ctrl: true }))).toBe("selectAll");
    expect(matchShortcut(key("Enter", { ctrl: true }))).toBe("run");
    expect(matchShortcut(key("z"))).toBeNull();
    expect(matchShortcut(key("z", { ctrl: true, alt: true }))).toBeNull();
  });

  it("leaves keys alone while typing", () => {
    const input = document.createElement("input");
    const box = document.createElement("input");
    box.type = "checkbox";
    expect(isTypingTarget(input)).toBe(true);
    expect(isTypingTarget(document.createElement("textarea"))).toBe(true);
    expect(isTypingTarget(box)).toBe(false);
    expect(isTypingTarget(document.body)).toBe(false);
  });

  it("runs a command from the registry only when it is enabled", () => {
    const store = createEditorStore();
    const opened: string[] = [];
    const ctx = (readOnly: boolean): ActionContext => ({
      store: store.getState,
      readOnly,
      canUndo: false,
      canRedo: false,
      nodeCount: 0,
      layoutBusy: false,
      save: () => opened.push("save"),
      layout: () => opened.push("layout"),
      fit: () => opened.push("fit"),
      validate: () => opened.push("validate"),
      importFile: () => opened.push("import"),
      open: (d) => opened.push(d),
    });
    expect(ACTIONS.run.enabled(ctx(true))).toBe(false);
    expect(ACTIONS.layout.enabled(ctx(false))).toBe(false);
    ACTIONS.run.run(ctx(false));
    ACTIONS.help.run(ctx(true));
    expect(opened).toEqual(["run", "help"]);
    expect(titleWithKeys("undo")).toBe("Undo (Ctrl+Z)");
    expect(titleWithKeys("validate")).toBe("Validate");
    for (const id of ACTION_IDS) for (const k of ACTIONS[id].keys) expect(k).toMatch(/^(Mod\+)?(Shift\+)?\S+$/);
  });
});
