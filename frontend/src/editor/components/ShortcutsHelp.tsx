import { Dialog } from "../../ui/Dialog";
import { CLIPBOARD_SHORTCUTS, SHORTCUTS, describeKey } from "../shortcuts";

export function ShortcutsHelp({ onClose }: { onClose: () => void }) {
  const rows = [...SHORTCUTS, ...CLIPBOARD_SHORTCUTS];
  return (
    <Dialog title="Keyboard shortcuts" onClose={onClose} testId="shortcuts-help">
      <table className="table shortcuts">
        <tbody>
          {rows.map((s, i) => (
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
