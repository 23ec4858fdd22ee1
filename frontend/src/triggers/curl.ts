/** The copyable recipes of the webhook section: a signed curl call, and local times. */

/** Single-quoted for a POSIX shell: safe for any text. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * A shell snippet that signs and sends `body` to `url` (docs/triggers.md, "Signing"):
 * HMAC-SHA256 of "<timestamp>.<body>" keyed with the secret, which stays a placeholder
 * unless the caller has it (it is shown once).
 */
export function curlExample(url: string, body: string, secret = "whsec_…"): string {
  return [
    `URL=${shellQuote(url)}`,
    `SECRET=${shellQuote(secret)}`,
    `BODY=${shellQuote(body)}`,
    "TS=$(date +%s)",
    `SIG=$(printf '%s.%s' "$TS" "$BODY" | openssl dgst -sha256 -hmac "$SECRET" -hex | sed 's/^.* //')`,
    `curl -sS -X POST "$URL" \\`,
    `  -H 'Content-Type: application/json' \\`,
    `  -H "X-Agentloom-Timestamp: $TS" \\`,
    `  -H "X-Agentloom-Signature: sha256=$SIG" \\`,
    `  --data-binary "$BODY"`,
  ].join("\n");
}

/** An instant in a timezone, as "Mon 09:00" style text with the date (the browser's locale). */
export function formatIn(iso: string, timeZone: string): string {
  try {
    return new Intl.DateTimeFormat(undefined, {
      timeZone,
      weekday: "short",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      timeZoneName: "short",
    }).format(new Date(iso));
  } catch {
    return iso;
  }
}

export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}
