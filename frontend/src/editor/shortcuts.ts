/** Editor keyboard shortcuts: one table drives both the handler and the help overlay. */
export type ShortcutAction =
  | "undo"
  | "redo"
  | "selectAll"
  | "delete"
  | "duplicate"
  | "save"
  | "layout"
  | "fit"
  | "help"
  | "deselect"
  | "run";

export interface Shortcut {
  action: ShortcutAction;
  keys: string[];
  description: string;
}

export const SHORTCUTS: Shortcut[] = [
  { action: "undo", keys: ["Mod+Z"], description: "Undo" },
  { action: "redo", keys: ["Mod+Shift+Z", "Mod+Y"], description: "Redo" },
  { action: "selectAll", keys: ["Mod+A"], description: "Select every node and edge" },
  { action: "delete", keys: ["Delete", "Backspace"], description: "Delete the selection" },
  { action: "duplicate", keys: ["Mod+D"], description: "Duplicate the selection" },
  { action: "save", keys: ["Mod+S"], description: "Save now" },
  { action: "layout", keys: ["Shift+L"], description: "Auto-layout (left to right)" },
  { action: "fit", keys: ["Shift+F"], description: "Fit the graph in view" },
  { action: "run", keys: ["Mod+Enter"], description: "Run the workflow" },
  { action: "deselect", keys: ["Escape"], description: "Clear the selection" },
  { action: "help", keys: ["?"], description: "Show this help" },
];

/** Shortcuts handled by the browser's clipboard events (listed in the help). */
export const CLIPBOARD_SHORTCUTS: Shortcut[] = [
  { action: "duplicate", keys: ["Mod+C"], description: "Copy the selected nodes (and the edges between them)" },
  { action: "duplicate", keys: ["Mod+X"], description: "Cut" },
  { action: "duplicate", keys: ["Mod+V"], description: "Paste (fresh ids)" },
];

export const isMac = typeof navigator !== "undefined" && /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);

export function describeKey(key: string): string {
  return key.replace("Mod", isMac ? "⌘" : "Ctrl");
}

export interface KeyLike {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
}

function matches(e: KeyLike, combo: string): boolean {
  const parts = combo.split("+");
  const key = parts.pop()!;
  const mod = parts.includes("Mod");
  const shift = parts.includes("Shift");
  const hasMod = e.ctrlKey || e.metaKey;
  if (mod !== hasMod) return false;
  if (key === "?") return e.key === "?";
  if (shift !== e.shiftKey) return false;
  if (e.altKey) return false;
  return e.key.toLowerCase() === key.toLowerCase();
}

export function matchShortcut(e: KeyLike): ShortcutAction | null {
  for (const s of SHORTCUTS) if (s.keys.some((k) => matches(e, k))) return s.action;
  return null;
}

/** Typing in a field or with a dialog open: leave the keys alone. */
export function isTypingTarget(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el || typeof el.closest !== "function") return false;
  if (el.isContentEditable) return true;
  const tag = el.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag === "INPUT") {
    const type = (el as HTMLInputElement).type;
    return !["checkbox", "radio", "button", "submit", "range"].includes(type);
  }
  return false;
}
