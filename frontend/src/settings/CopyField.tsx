import { useRef, useState } from "react";

/**
 * A value shown once (an invitation link, a token's key): read-only, selected on focus, with a Copy
 * button. Where the clipboard API is refused (plain http, no permission) the text is left selected so
 * Ctrl+C works.
 */
export function CopyField({ value, label, testId }: { value: string; label: string; testId: string }) {
  const input = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(true);
    } catch {
      input.current?.select();
    }
  };
  return (
    <div className="field-row">
      <label className="field">
        <span>{label}</span>
        <input
          ref={input}
          className="mono"
          readOnly
          value={value}
          onFocus={(e) => e.currentTarget.select()}
          data-testid={testId}
          spellCheck={false}
        />
      </label>
      <button
        type="button"
        className="button"
        style={{ flex: "0 0 auto", marginBottom: 10 }}
        onClick={() => void copy()}
        data-testid={`${testId}-copy`}
      >
        {copied ? "Copied" : "Copy"}
      </button>
    </div>
  );
}
