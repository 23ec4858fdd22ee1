import { describe, expect, it } from "vitest";
import { checkExpression, splitPlaceholders, validatePrompt } from "./placeholders";

describe("placeholders", () => {
  it("splits text and placeholders", () => {
    const segs = splitPlaceholders("Research {{ $.run.topic }} now");
    expect(segs.map((s) => s.kind)).toEqual(["text", "placeholder", "text"]);
    expect(segs[1]).toMatchObject({ expression: "$.run.topic", start: 9 });
  });

  it("handles braces inside strings and object literals", () => {
    const segs = splitPlaceholders('A {{ "}}" & $.x }} B {{ {"a": 1} }}');
    const ph = segs.filter((s) => s.kind === "placeholder");
    expect(ph.map((s) => (s.kind === "placeholder" ? s.expression : ""))).toEqual(['"}}" & $.x', '{"a": 1}']);
  });

  it("flags unclosed and malformed placeholders", () => {
    expect(splitPlaceholders("x {{ $.a")[1]!.kind).toBe("unclosed");
    expect(checkExpression("")).toBeDefined();
    expect(checkExpression("$count($.a")).toMatch(/Unclosed/);
    expect(checkExpression("$.a]")).toMatch(/Unbalanced/);
    expect(checkExpression('"abc')).toMatch(/Unterminated/);
    expect(checkExpression("$count($.a)")).toBeUndefined();
  });

  it("validates a prompt against declared inputs and incoming keys", () => {
    const issues = validatePrompt(
      "{{ $.run.topic }} {{ $.run.nope }} {{ $.draft }} {{ $.`researcher-1`.text }} {{ $.ghost }} {{",
      ["topic"],
      ["draft", "researcher-1"],
    );
    const msgs = issues.map((i) => `${i.severity}:${i.message}`);
    expect(msgs.some((m) => m.startsWith("warning") && m.includes('"nope"'))).toBe(true);
    expect(msgs.some((m) => m.includes('"ghost"'))).toBe(true);
    expect(msgs.some((m) => m.includes('"draft"'))).toBe(false);
    expect(msgs.some((m) => m.includes("researcher-1"))).toBe(false);
    expect(msgs.some((m) => m.startsWith("error"))).toBe(true);
  });
});
