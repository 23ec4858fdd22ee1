/**
 * `{{ <JSONata> }}` placeholders inside prompt text: splitting for highlighting and
 * a quick local check (the server parses the JSONata for real on save/validate).
 */

export type Segment =
  | { kind: "text"; text: string; start: number }
  | { kind: "placeholder"; text: string; expression: string; start: number; error?: string }
  | { kind: "unclosed"; text: string; start: number; error: string };

export interface PlaceholderIssue {
  start: number;
  end: number;
  message: string;
  severity: "error" | "warning";
}

export function splitPlaceholders(text: string): Segment[] {
  const out: Segment[] = [];
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf("{{", i);
    if (open < 0) {
      out.push({ kind: "text", text: text.slice(i), start: i });
      break;
    }
    if (open > i) out.push({ kind: "text", text: text.slice(i, open), start: i });
    const close = findClose(text, open + 2);
    if (close < 0) {
      out.push({
        kind: "unclosed",
        text: text.slice(open),
        start: open,
        error: "This {{ has no closing }}.",
      });
      break;
    }
    const raw = text.slice(open, close + 2);
    const expression = text.slice(open + 2, close).trim();
    const error = checkExpression(expression);
    out.push(
      error
        ? { kind: "placeholder", text: raw, expression, start: open, error }
        : { kind: "placeholder", text: raw, expression, start: open },
    );
    i = close + 2;
  }
  return out;
}

/** Index of the `}}` closing a placeholder whose body starts at `from`, skipping strings. */
function findClose(text: string, from: number): number {
  let quote: string | null = null;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === "}" && text[i + 1] === "}") {
      // `}}}` closes an object literal first: take the last brace pair.
      let j = i;
      while (text[j + 2] === "}") j++;
      return j;
    }
  }
  return -1;
}

/** A shallow syntax check: non-empty, balanced brackets and quotes. */
export function checkExpression(expression: string): string | undefined {
  if (!expression.trim()) return "Empty placeholder.";
  const stack: string[] = [];
  const pairs: Record<string, string> = { ")": "(", "]": "[", "}": "{" };
  let quote: string | null = null;
  for (let i = 0; i < expression.length; i++) {
    const c = expression[i]!;
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'" || c === "`") quote = c;
    else if (c === "(" || c === "[" || c === "{") stack.push(c);
    else if (c === ")" || c === "]" || c === "}") {
      if (stack.pop() !== pairs[c]) return `Unbalanced "${c}".`;
    }
  }
  if (quote) return "Unterminated string.";
  if (stack.length) return `Unclosed "${stack[stack.length - 1]}".`;
  return undefined;
}

/**
 * Problems of a prompt: unclosed or malformed placeholders (errors) and references to
 * run inputs that are not declared (warnings).
 */
export function validatePrompt(
  text: string,
  declaredInputs: readonly string[] = [],
  inputKeys?: readonly string[],
): PlaceholderIssue[] {
  const issues: PlaceholderIssue[] = [];
  const declared = new Set(declaredInputs);
  for (const seg of splitPlaceholders(text)) {
    if (seg.kind === "text") continue;
    const end = seg.start + seg.text.length;
    if (seg.kind === "unclosed") {
      issues.push({ start: seg.start, end, message: seg.error, severity: "error" });
      continue;
    }
    if (seg.error) {
      issues.push({ start: seg.start, end, message: seg.error, severity: "error" });
      continue;
    }
    for (const m of seg.expression.matchAll(/\$\.run\.([A-Za-z_][\w]*)/g)) {
      if (!declared.has(m[1]!))
        issues.push({
          start: seg.start,
          end,
          message: `Run input "${m[1]}" is not declared in the workflow inputs.`,
          severity: "warning",
        });
    }
    if (inputKeys) {
      const keys = new Set(inputKeys);
      for (const m of seg.expression.matchAll(/\$\.(?:`([^`]+)`|([A-Za-z_]\w*))/g)) {
        const key = (m[1] ?? m[2])!;
        if (key !== "run" && !keys.has(key))
          issues.push({
            start: seg.start,
            end,
            message: `No incoming edge delivers "${key}".`,
            severity: "warning",
          });
      }
    }
  }
  return issues;
}
