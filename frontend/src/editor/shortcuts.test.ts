import { describe, expect, it } from "vitest";
import { isTypingTarget, matchShortcut } from "./shortcuts";

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
});
