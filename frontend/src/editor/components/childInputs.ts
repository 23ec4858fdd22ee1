/**
 * A `workflow` node's `inputs` (a JSONata expression giving the child run's inputs) read as, and written
 * from, one expression per input the child declares: `{"topic": $.run.topic, "depth": 2}`. An expression
 * that is not such an object literal (a computed key, a function call, a merge) cannot be read as fields
 * and is edited as text; `parseInputsObject` says so by returning null.
 */

/** The longest `inputs` text read as fields; a longer one is edited as text (the scan is linear anyway). */
const MAX_PARSED_CHARS = 100_000;

const OPEN: Record<string, string> = { "{": "}", "[": "]", "(": ")" };

/**
 * Where each top-level piece of `text` ends: the indices of the commas at depth 0, and the end. Strings
 * ("…", '…'), backquoted names and comments are skipped so their commas and brackets do not count.
 * Null when the brackets do not balance or a string or comment is not closed.
 */
function topLevelCommas(text: string): number[] | null {
  const closers: string[] = [];
  const commas: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"' || c === "'" || c === "`") {
      const end = quoteEnd(text, i);
      if (end < 0) return null;
      i = end;
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      if (end < 0) return null;
      i = end + 1;
    } else if (OPEN[c]) {
      closers.push(OPEN[c]);
    } else if (c === "}" || c === "]" || c === ")") {
      if (closers.pop() !== c) return null;
    } else if (c === "," && closers.length === 0) {
      commas.push(i);
    }
  }
  return closers.length ? null : commas;
}

/** The index of the quote closing the one at `start` (backslash escapes skipped; none in backquotes), or -1. */
function quoteEnd(text: string, start: number): number {
  const q = text[start]!;
  for (let i = start + 1; i < text.length; i++) {
    if (q !== "`" && text[i] === "\\") i++;
    else if (text[i] === q) return i;
  }
  return -1;
}

/** A JSONata string literal's value (double or single quotes, JSON escapes), or null. */
function stringValue(literal: string): string | null {
  const body = literal.slice(1, -1);
  const json = literal[0] === '"' ? literal : `"${body.replace(/\\'/g, "'").replace(/"/g, '\\"')}"`;
  try {
    const value: unknown = JSON.parse(json);
    return typeof value === "string" ? value : null;
  } catch {
    return null;
  }
}

/**
 * `{"key": expression, …}` as a map from key to expression (in order), or null when `text` is anything
 * else. Blank text is the empty object, as the engine reads it.
 */
export function parseInputsObject(text: string): Map<string, string> | null {
  const src = text.trim();
  const out = new Map<string, string>();
  if (!src) return out;
  if (src.length > MAX_PARSED_CHARS || src[0] !== "{" || src.at(-1) !== "}") return null;
  const inner = src.slice(1, -1);
  const commas = topLevelCommas(inner);
  if (commas === null) return null;
  if (!inner.trim()) return out;
  let from = 0;
  for (const to of [...commas, inner.length]) {
    const part = inner.slice(from, to).trim();
    from = to + 1;
    if (part[0] !== '"' && part[0] !== "'") return null;
    const end = quoteEnd(part, 0);
    const key = end > 0 ? stringValue(part.slice(0, end + 1)) : null;
    const rest = part.slice(end + 1).trimStart();
    if (key === null || rest[0] !== ":" || out.has(key)) return null;
    const expression = rest.slice(1).trim();
    if (!expression) return null;
    out.set(key, expression);
  }
  return out;
}

/** The `inputs` expression for these (key, expression) pairs; blank expressions are left out. */
export function composeInputsObject(entries: Iterable<readonly [string, string]>): string {
  const parts: string[] = [];
  for (const [key, expression] of entries) {
    if (expression.trim()) parts.push(`${JSON.stringify(key)}: ${expression.trim()}`);
  }
  return parts.length ? `{${parts.join(", ")}}` : "{}";
}
