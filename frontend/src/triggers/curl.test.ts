import { describe, expect, it } from "vitest";
import { curlExample, formatIn, shellQuote } from "./curl";

describe("shellQuote", () => {
  it("keeps any text one word", () => {
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote("$(rm -rf /)")).toBe("'$(rm -rf /)'");
  });
});

describe("curlExample", () => {
  it("signs the timestamp and body with the secret", () => {
    const text = curlExample("https://x.test/hooks/abc", '{"n": 1}', "whsec_s3cret");
    expect(text).toContain("URL='https://x.test/hooks/abc'");
    expect(text).toContain("SECRET='whsec_s3cret'");
    expect(text).toContain('openssl dgst -sha256 -hmac "$SECRET"');
    expect(text).toContain("X-Agentloom-Signature: sha256=$SIG");
    expect(text).toContain('--data-binary "$BODY"');
  });
  it("leaves a placeholder when the secret is not known", () => {
    expect(curlExample("u", "{}")).toContain("SECRET='whsec_…'");
  });
});

describe("formatIn", () => {
  it("shows the instant in the named timezone", () => {
    expect(formatIn("2027-03-28T01:30:00Z", "Europe/Berlin")).toMatch(/03:30/);
    expect(formatIn("2027-03-28T01:30:00Z", "UTC")).toMatch(/01:30/);
  });
});
