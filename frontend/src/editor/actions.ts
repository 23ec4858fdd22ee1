/**
 * The editor's commands, in one table: the toolbar's buttons, the keyboard shortcuts and the
 * shortcuts help all read it, so a command's label, keys and "can I now?" are said once.
 */
import type { EditorState } from "./store";

/** What a command may read and do; built by the editor page on every render. */
export interface ActionContext {
  store: () => EditorState;
  readOnly: boolean;
  canUndo: boolean;
  canRedo: boolean;
  nodeCount: number;
  layoutBusy: boolean;
  save: () => void;
  layout: () => void;
  fit: () => void;
  validate: () => void;
  importFile: () => void;
  open: (dialog: "run" | "versions" | "stats" | "help") => void;
}

export interface EditorAction {
  label: string;
  /** The help overlay's wording, when it differs from the label. */
  description?: string;
  /** Key combinations ("Mod" is Ctrl, or ⌘ on a Mac); none for toolbar-only commands. */
  keys: readonly string[];
  run: (ctx: ActionContext) => void;
  enabled: (ctx: ActionContext) => boolean;
}

const always = () => true;
const writable = (ctx: ActionContext) => !ctx.readOnly;

export const ACTIONS = {
  undo: {
    label: "Undo",
    keys: ["Mod+Z"],
    run: (ctx) => ctx.store().undo(),
    enabled: (ctx) => ctx.canUndo && !ctx.readOnly,
  },
  redo: {
    label: "Redo",
    keys: ["Mod+Shift+Z", "Mod+Y"],
    run: (ctx) => ctx.store().redo(),
    enabled: (ctx) => ctx.canRedo && !ctx.readOnly,
  },
  selectAll: {
    label: "Select all",
    description: "Select every node and edge",
    keys: ["Mod+A"],
    run: (ctx) => ctx.store().selectAll(),
    enabled: always,
  },
  delete: {
    label: "Delete",
    description: "Delete the selection",
    keys: ["Delete", "Backspace"],
    run: (ctx) => ctx.store().deleteSelection(),
    enabled: writable,
  },
  duplicate: {
    label: "Duplicate",
    description: "Duplicate the selection",
    keys: ["Mod+D"],
    run: (ctx) => ctx.store().duplicate(),
    enabled: writable,
  },
  save: { label: "Save", description: "Save now", keys: ["Mod+S"], run: (ctx) => ctx.save(), enabled: always },
  layout: {
    label: "Auto-layout",
    description: "Auto-layout (left to right)",
    keys: ["Shift+L"],
    run: (ctx) => ctx.layout(),
    enabled: (ctx) => !ctx.layoutBusy && !ctx.readOnly && ctx.nodeCount > 0,
  },
  fit: {
    label: "Fit view",
    description: "Fit the graph in view",
    keys: ["Shift+F"],
    run: (ctx) => ctx.fit(),
    enabled: always,
  },
  validate: { label: "Validate", keys: [], run: (ctx) => ctx.validate(), enabled: always },
  history: { label: "History", keys: [], run: (ctx) => ctx.open("versions"), enabled: always },
  stats: { label: "Stats", keys: [], run: (ctx) => ctx.open("stats"), enabled: always },
  import: { label: "Import", keys: [], run: (ctx) => ctx.importFile(), enabled: writable },
  run: {
    label: "Run",
    description: "Run the workflow",
    keys: ["Mod+Enter"],
    run: (ctx) => ctx.open("run"),
    enabled: writable,
  },
  deselect: {
    label: "Deselect",
    description: "Clear the selection",
    keys: ["Escape"],
    run: (ctx) => ctx.store().select([]),
    enabled: always,
  },
  help: {
    label: "Keyboard shortcuts",
    description: "Show this help",
    keys: ["?"],
    run: (ctx) => ctx.open("help"),
    enabled: always,
  },
} satisfies Record<string, EditorAction>;

export type ActionId = keyof typeof ACTIONS;

export const ACTION_IDS = Object.keys(ACTIONS) as ActionId[];

/** A command as the generic `EditorAction` (the table's entries keep their literal types). */
export function action(id: ActionId): EditorAction {
  return ACTIONS[id];
}
