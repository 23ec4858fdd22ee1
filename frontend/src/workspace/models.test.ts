import { describe, expect, it } from "vitest";
import type { CredentialView } from "../api/types";
import { credentialsForModel, groupModels, modelOptionLabel, toModelView } from "./models";

const priced = { input_cost_per_token: 0.00000015, output_cost_per_token: 0.0000006 };

describe("models of a workspace", () => {
  it("reads what the server says, and assumes usable when it does not say", () => {
    const full = toModelView({
      id: "openai/gpt-4o-mini",
      provider: "openai",
      label: "GPT-4o mini",
      simulated: false,
      available: false,
      source: null,
      reason: "no OpenAI credential in this workspace and no operator key",
      ...priced,
      max_tokens: null,
    });
    expect(full).toMatchObject({ provider: "openai", available: false, reason: expect.stringContaining("no OpenAI") });
    // An older answer: no available, source, reason, provider or label.
    const bare = toModelView({ id: "anthropic/claude-haiku-4-5" });
    expect(bare).toMatchObject({
      label: "anthropic/claude-haiku-4-5",
      provider: "anthropic",
      available: true,
      source: null,
      reason: null,
      simulated: false,
    });
    expect(modelOptionLabel(bare)).toBe("anthropic/claude-haiku-4-5 — price unknown");
    expect(toModelView({ id: "mock/echo" }).simulated).toBe(true);
    // A reason only explains an unavailable model.
    expect(toModelView({ id: "openai/gpt-4o", available: true, reason: "stale" }).reason).toBeNull();
  });

  it("labels price and key source, or why a model cannot be used", () => {
    const usable = toModelView({ id: "openai/gpt-4o-mini", label: "GPT-4o mini", source: "credential", ...priced });
    expect(modelOptionLabel(usable)).toBe("GPT-4o mini — $0.15 / $0.60 per 1M tokens · workspace credential");
    const env = toModelView({ id: "openai/gpt-4o-mini", label: "GPT-4o mini", source: "environment", ...priced });
    expect(modelOptionLabel(env)).toContain("· operator key");
    expect(modelOptionLabel(toModelView({ id: "mock/echo", label: "Echo", source: "builtin" }))).toBe(
      "Echo (simulated)",
    );
    const off = toModelView({ id: "groq/x", label: "X", available: false, reason: "no Groq key" });
    expect(modelOptionLabel(off)).toBe("X — unavailable: no Groq key");
    expect(modelOptionLabel(toModelView({ id: "groq/y", label: "Y", available: false }))).toBe(
      "Y — unavailable: no key for this provider in this workspace",
    );
  });

  it("groups by provider in the server's order, usable models first", () => {
    const groups = groupModels(
      [
        { id: "mock/echo" },
        { id: "openai/a", available: false },
        { id: "anthropic/c" },
        { id: "openai/b" },
        { id: "openai/self", provider: "openai-compatible" },
      ].map(toModelView),
    );
    expect(groups.map((g) => [g.provider, g.label, g.models.map((m) => m.id)])).toEqual([
      ["mock", "Simulated", ["mock/echo"]],
      ["openai", "OpenAI", ["openai/b", "openai/a"]],
      ["anthropic", "Anthropic", ["anthropic/c"]],
      ["openai-compatible", "Self-hosted (OpenAI-compatible)", ["openai/self"]],
    ]);
  });

  it("offers an agent the credentials of its model's provider and those serving any model", () => {
    const cred = (id: string, provider: CredentialView["provider"]): CredentialView => ({
      id,
      workspace: "w",
      name: id,
      provider,
    });
    const all = [cred("o1", "openai"), cred("a1", "anthropic"), cred("c1", "openai_compatible"), cred("z1", "azure")];
    const ids = (r: ReturnType<typeof credentialsForModel>) => [
      r.matching.map((c) => c.id),
      r.anyModel.map((c) => c.id),
    ];
    expect(ids(credentialsForModel(all, "openai/gpt-4o"))).toEqual([["o1"], ["c1", "z1"]]);
    expect(ids(credentialsForModel(all, "azure/my-deployment"))).toEqual([["z1"], ["c1"]]);
    expect(ids(credentialsForModel(all, "mock/echo"))).toEqual([[], []]);
    expect(ids(credentialsForModel(all, null))).toEqual([[], ["c1", "z1"]]);
    expect(ids(credentialsForModel([cred("h", "http")], "openai/gpt-4o"))).toEqual([[], []]);
  });
});
