/**
 * The model picker's view of `GET models/?workspace=`: each model read defensively (a server older or
 * newer than the schema may leave out `available`, `source` or `reason`), grouped by provider, and the
 * credentials an agent may name for a model.
 */
import type { CredentialView, ModelInfo } from "../api/types";
import { SERVED_MODEL_NAME } from "../doc/engine";
import { PROVIDERS, providerLabel, providerSpec } from "./providers";

export interface ModelView {
  id: string;
  label: string;
  provider: string;
  simulated: boolean;
  available: boolean;
  /** Where its key comes from (`builtin`, `credential`, `environment`); null when the server does not say. */
  source: string | null;
  /** Why it cannot be used here; null when available or unexplained. */
  reason: string | null;
  inputCostPerToken: number | null;
  outputCostPerToken: number | null;
}

export interface ModelGroup {
  provider: string;
  label: string;
  models: ModelView[];
}

/** The provider part of a model id (`openai/gpt-4o` → `openai`), as the server resolves keys. */
export function modelProvider(modelId: string): string {
  const slash = modelId.indexOf("/");
  return slash < 0 ? "" : modelId.slice(0, slash);
}

const text = (v: unknown): string | null => (typeof v === "string" && v ? v : null);
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

export function toModelView(raw: Partial<ModelInfo> & { id: string }): ModelView {
  const provider = text(raw.provider) ?? modelProvider(raw.id);
  return {
    id: raw.id,
    label: text(raw.label) ?? raw.id,
    provider,
    simulated: typeof raw.simulated === "boolean" ? raw.simulated : provider === "mock",
    // A server that does not say offers only what is usable.
    available: raw.available !== false,
    source: text(raw.source),
    reason: raw.available === false ? text(raw.reason) : null,
    inputCostPerToken: num(raw.input_cost_per_token),
    outputCostPerToken: num(raw.output_cost_per_token),
  };
}

/** Groups in the server's order of first appearance; in each, the usable models before the others. */
export function groupModels(models: readonly ModelView[]): ModelGroup[] {
  const groups = new Map<string, ModelView[]>();
  for (const m of models) {
    const list = groups.get(m.provider);
    if (list) list.push(m);
    else groups.set(m.provider, [m]);
  }
  return [...groups].map(([provider, list]) => ({
    provider,
    label: providerLabel(provider),
    models: [...list.filter((m) => m.available), ...list.filter((m) => !m.available)],
  }));
}

const SOURCE_LABELS: Record<string, string> = {
  credential: "workspace credential",
  environment: "operator key",
};

/** Built-in (mock) models need no key: nothing to say. A source this UI does not know is shown as is. */
export function sourceLabel(source: string | null): string | null {
  if (!source || source === "builtin") return null;
  return SOURCE_LABELS[source] ?? source;
}

export function formatPrice(m: ModelView): string {
  if (m.simulated) return "simulated";
  if (m.inputCostPerToken === null || m.outputCostPerToken === null) return "price unknown";
  const perM = (c: number) => `$${(c * 1_000_000).toFixed(2)}`;
  return `${perM(m.inputCostPerToken)} / ${perM(m.outputCostPerToken)} per 1M tokens`;
}

/** "GPT-4o mini — $0.15 / $0.60 per 1M tokens · operator key", or "… — unavailable: <reason>". */
export function modelOptionLabel(m: ModelView): string {
  const name = m.simulated && !/simulated/i.test(m.label) ? `${m.label} (simulated)` : m.label;
  if (!m.available) return `${name} — unavailable: ${m.reason ?? "no key for this provider in this workspace"}`;
  const base = m.simulated ? name : `${name} — ${formatPrice(m)}`;
  const source = sourceLabel(m.source);
  return source ? `${base} · ${source}` : base;
}

/**
 * The credentials an agent calling `modelId` may name: those of the model's provider, then those that
 * serve any model name at their own address (`openai_compatible`, `azure`). Simulated models use none.
 */
export function credentialsForModel(
  credentials: readonly CredentialView[],
  modelId: string | null | undefined,
): { matching: CredentialView[]; anyModel: CredentialView[] } {
  const provider = modelId ? modelProvider(modelId) : "";
  if (provider === "mock") return { matching: [], anyModel: [] };
  return {
    matching: credentials.filter((c) => provider !== "" && c.provider === provider),
    anyModel: credentials.filter((c) => c.provider !== provider && providerSpec(c.provider).anyModel),
  };
}

/** Whether credentials of `provider` serve any model name at their own address (`openai_compatible`, `azure`). */
export function servesAnyName(provider: string): boolean {
  return PROVIDERS.some((p) => p.id === provider && p.anyModel);
}

/** The providers of the workspace's credentials that serve any model name, in the credentials form's order. */
export function servedProviders(credentials: readonly CredentialView[]): string[] {
  const present = new Set(credentials.map((c) => c.provider));
  return PROVIDERS.filter((p) => p.anyModel && present.has(p.id)).map((p) => p.id);
}

const SERVED_NAME = new RegExp(`^(?:${SERVED_MODEL_NAME.pattern})$`);

/**
 * Why `name` is not a model name a server can be asked for, or null: the engine's rule (from its
 * catalog), so a name typed here is one the server's validation accepts.
 */
export function servedNameProblem(name: string): string | null {
  if (name.length > SERVED_MODEL_NAME.max_length) return `At most ${SERVED_MODEL_NAME.max_length} characters.`;
  if (!SERVED_NAME.test(name)) {
    return "Letters, digits and . _ : @ + - only, starting with a letter or digit, parts separated by single slashes.";
  }
  return null;
}
