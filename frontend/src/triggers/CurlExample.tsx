import { useState } from "react";
import { curlExample } from "./curl";

const EXAMPLE_BODY = '{"n": 1}';

/** The signed curl call to a webhook, with a Copy button (the secret stays a placeholder unless given). */
export function CurlExample({ url, secret }: { url: string; secret?: string }) {
  const example = curlExample(url, EXAMPLE_BODY, secret);
  const [copied, setCopied] = useState(false);
  const copy = () =>
    navigator.clipboard?.writeText(example).then(
      () => setCopied(true),
      () => setCopied(false),
    );
  return (
    <div>
      <pre className="small mono" data-testid="curl-example">
        {example}
      </pre>
      <button type="button" className="button button-small" onClick={() => void copy()} data-testid="copy-curl">
        {copied ? "Copied" : "Copy curl example"}
      </button>
    </div>
  );
}
