/** Matching keyboard events to the editor's commands (the keys are in `./actions`). */
import { ACTIONS, ACTION_IDS, type ActionId } from "./actions";

/** Help rows for keys the browser's clipboard events handle (see the editor page). */
export const CLIPBOARD_SHORTCUTS: { keys: string[]; description: string }[] = [
  { keys: ["Mod+C"], description: "Copy the selected nodes (and the edges between them)" },
  { keys: ["Mod+X"], description: "Cut" },
  { keys: ["Mod+V"], description: "Paste (fresh ids)" },
];

export const isMac =
  typeof navigator !== "undefined" && /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);

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

export function matchShortcut(e: KeyLike): ActionId | null {
  return ACTION_IDS.find((id) => ACTIONS[id].keys.some((k) => matches(e, k))) ?? null;
}

/** "Undo (Ctrl+Z)": a toolbar button's tooltip. */
export function titleWithKeys(id: ActionId): string {
  const { label, keys } = ACTIONS[id];
  return keys.length ? `${label} (${keys.map(describeKey).join(" or ")})` : label;
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
