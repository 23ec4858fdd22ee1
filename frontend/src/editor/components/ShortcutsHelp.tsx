import { Dialog } from "../../ui/Dialog";
import { ACTION_IDS, action } from "../actions";
import { CLIPBOARD_SHORTCUTS, describeKey } from "../shortcuts";

/** Every command that has keys, then the clipboard's. */
const ROWS = [
  ...ACTION_IDS.map(action)
    .filter((a) => a.keys.length > 0)
    .map((a) => ({ keys: a.keys, description: a.description ?? a.label })),
  ...CLIPBOARD_SHORTCUTS,
];

export function ShortcutsHelp({ onClose }: { onClose: () => void }) {
  return (
    <Dialog title="Keyboard shortcuts" onClose={onClose} testId="shortcuts-help">
      <table className="table shortcuts">
        <tbody>
          {ROWS.map((s, i) => (
            <tr key={i}>
              <td>
                {s.keys.map((k, j) => (
                  <span key={k}>
                    {j > 0 && " or "}
                    <kbd>{describeKey(k)}</kbd>
                  </span>
                ))}
              </td>
              <td>{s.description}</td>
            </tr>
          ))}
          <tr>
            <td>
              <kbd>Shift</kbd> + drag, <kbd>{describeKey("Mod")}</kbd> + click
            </td>
            <td>Select several nodes</td>
          </tr>
          <tr>
            <td>
              <kbd>Tab</kbd> / <kbd>Enter</kbd>
            </td>
            <td>Move between nodes; arrows move the focused selection</td>
          </tr>
        </tbody>
      </table>
    </Dialog>
  );
}
