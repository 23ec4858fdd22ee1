/**
 * What a credential of each provider holds (docs/credentials.md): its write-only secret fields and its
 * non-secret config. The add and rotate forms are drawn from this table, so a provider is one entry.
 */
import type { CredentialProvider } from "../api/types";

export interface CredentialField {
  key: string;
  label: string;
  required: boolean;
  placeholder?: string;
  hint?: string;
}

export interface ProviderSpec {
  id: CredentialProvider;
  label: string;
  /** Sent once, never shown again: the form reads them from password inputs, not from state. */
  secret: readonly CredentialField[];
  config: readonly CredentialField[];
  /** Serves any model name at its `api_base` (so an agent may pick it whatever its model's provider). */
  anyModel: boolean;
}

const API_KEY: CredentialField = { key: "api_key", label: "API key", required: true };
const API_BASE: CredentialField = {
  key: "api_base",
  label: "API base URL",
  required: true,
  placeholder: "https://…",
};

export const PROVIDERS: readonly ProviderSpec[] = [
  { id: "openai", label: "OpenAI", secret: [API_KEY], config: [], anyModel: false },
  { id: "anthropic", label: "Anthropic", secret: [API_KEY], config: [], anyModel: false },
  { id: "gemini", label: "Google Gemini", secret: [API_KEY], config: [], anyModel: false },
  { id: "mistral", label: "Mistral", secret: [API_KEY], config: [], anyModel: false },
  { id: "groq", label: "Groq", secret: [API_KEY], config: [], anyModel: false },
  {
    id: "azure",
    label: "Azure OpenAI",
    secret: [API_KEY],
    config: [
      { ...API_BASE, placeholder: "https://<resource>.openai.azure.com" },
      { key: "api_version", label: "API version", required: false, placeholder: "2024-10-21" },
    ],
    anyModel: true,
  },
  {
    id: "openai_compatible",
    label: "OpenAI-compatible server",
    secret: [API_KEY],
    config: [{ ...API_BASE, placeholder: "https://llm.example.com/v1", hint: "Any model name is called there." }],
    anyModel: true,
  },
  {
    id: "http",
    label: "HTTP service",
    secret: [{ key: "token", label: "Token", required: true }],
    config: [
      {
        key: "header",
        label: "Header",
        required: false,
        placeholder: "Authorization",
        hint: "The header the token is sent in.",
      },
    ],
    anyModel: false,
  },
];

const BY_ID = new Map(PROVIDERS.map((p) => [p.id, p]));

export function providerSpec(id: CredentialProvider): ProviderSpec {
  return BY_ID.get(id) ?? { id, label: id, secret: [API_KEY], config: [], anyModel: false };
}

/** Names of the providers in the model catalog, which may differ from credential providers. */
const MODEL_PROVIDER_LABELS: Record<string, string> = {
  mock: "Simulated",
  "openai-compatible": "Self-hosted (OpenAI-compatible)",
  ollama: "Ollama",
};

export function providerLabel(id: string): string {
  return MODEL_PROVIDER_LABELS[id] ?? BY_ID.get(id as CredentialProvider)?.label ?? id;
}
