import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { credential, fakeApi, settle, WS } from "../test/fakeApi";
import { useWorkspaceData } from "./store";

const SECRET = "sk-test-secret-value-9f3a";

const page = (results: unknown[]) => ({ body: { next: null, previous: null, results } });

beforeEach(() => {
  useWorkspaceData.setState({ credentials: {}, models: {}, usage: {} });
});
afterEach(() => {
  vi.unstubAllGlobals();
});

describe("workspace data store", () => {
  it("adds a credential: the secret goes to the server and nowhere in the state", async () => {
    let models: { id: string; provider: string; available: boolean; reason: string | null }[] = [
      { id: "openai/gpt-4o", provider: "openai", available: false, reason: "no key" },
    ];
    const calls = fakeApi({
      "GET /api/v1/credentials/": () => page([]),
      "GET /api/v1/models/": () => ({ body: models }),
      "POST /api/v1/credentials/": () => {
        models = [{ id: "openai/gpt-4o", provider: "openai", available: true, reason: null }];
        return { status: 201, body: credential() };
      },
    });
    const s = useWorkspaceData.getState();
    await Promise.all([s.loadCredentials(WS), s.loadModels(WS)]);
    expect(useWorkspaceData.getState().models[WS]?.data?.[0]?.available).toBe(false);
    await s.addCredential({
      workspace: WS,
      name: "Team OpenAI",
      provider: "openai",
      secret: { api_key: SECRET },
      config: {},
    });
    await settle();
    const state = useWorkspaceData.getState();
    expect(state.credentials[WS]?.data?.map((c) => c.hint)).toEqual(["9f3a"]);
    expect(JSON.stringify(state)).not.toContain(SECRET);
    const post = calls.find((c) => c.method === "POST")!;
    expect(post.body).toEqual({
      workspace: WS,
      name: "Team OpenAI",
      provider: "openai",
      secret: { api_key: SECRET },
      config: {},
    });
    // The models are asked per workspace and refreshed: the new key makes the model usable.
    expect(calls.filter((c) => c.path === "/api/v1/models/").map((c) => c.query)).toEqual([
      `?workspace=${WS}`,
      `?workspace=${WS}`,
    ]);
    expect(state.models[WS]?.data?.[0]?.available).toBe(true);
  });

  it("rotates by PATCHing only the secret and keeps the new hint", async () => {
    const calls = fakeApi({
      "GET /api/v1/credentials/": () => page([credential()]),
      "PATCH /api/v1/credentials/c-1/": () => ({ body: credential({ hint: "7777" }) }),
    });
    await useWorkspaceData.getState().loadCredentials(WS);
    await useWorkspaceData.getState().rotateCredential(credential(), { api_key: "sk-new-key-000007777" });
    expect(calls.at(-1)).toMatchObject({ method: "PATCH", body: { secret: { api_key: "sk-new-key-000007777" } } });
    expect(useWorkspaceData.getState().credentials[WS]?.data?.[0]?.hint).toBe("7777");
    expect(JSON.stringify(useWorkspaceData.getState())).not.toContain("sk-new-key");
  });

  it("reports a delete refused with in_use, with the workflows that use it, and keeps the credential", async () => {
    const workflows = [{ id: "w-1", name: "Support triage" }];
    fakeApi({
      "GET /api/v1/credentials/": () => page([credential()]),
      "DELETE /api/v1/credentials/c-1/": () => ({
        status: 409,
        body: { code: "in_use", message: "1 workflow(s) use this credential; change them first.", workflows },
      }),
    });
    await useWorkspaceData.getState().loadCredentials(WS);
    const refused = await useWorkspaceData.getState().deleteCredential(credential());
    expect(refused).toEqual({ message: "1 workflow(s) use this credential; change them first.", workflows });
    const state = useWorkspaceData.getState();
    expect(state.credentials[WS]?.data).toHaveLength(1);
    expect(state.usage["c-1"]?.data).toEqual(workflows);
  });

  it("deletes, and other refusals throw", async () => {
    let status = 403;
    fakeApi({
      "GET /api/v1/credentials/": () => page([credential(), credential({ id: "c-2", name: "Other" })]),
      "DELETE /api/v1/credentials/c-1/": () =>
        status === 204 ? { status } : { status, body: { code: "permission_denied", message: "Not allowed." } },
    });
    const s = useWorkspaceData.getState();
    await s.loadCredentials(WS);
    await expect(s.deleteCredential(credential())).rejects.toThrow("Not allowed.");
    status = 204;
    expect(await s.deleteCredential(credential())).toBeNull();
    expect(useWorkspaceData.getState().credentials[WS]?.data?.map((c) => c.id)).toEqual(["c-2"]);
  });

  it("keeps the newest answer when requests overlap, and what it had while refreshing", async () => {
    const answers: ((v: unknown) => void)[] = [];
    vi.stubGlobal(
      "fetch",
      vi.fn(() =>
        new Promise((resolve) => answers.push(resolve)).then(
          (results) => new Response(JSON.stringify({ next: null, results }), { status: 200 }),
        ),
      ),
    );
    const s = useWorkspaceData.getState();
    const first = s.loadCredentials(WS);
    expect(useWorkspaceData.getState().credentials[WS]?.status).toBe("loading");
    const second = s.loadCredentials(WS, { force: true });
    answers[1]!([credential({ name: "new" })]);
    await second;
    answers[0]!([credential({ name: "old" })]);
    await first;
    expect(useWorkspaceData.getState().credentials[WS]?.data?.map((c) => c.name)).toEqual(["new"]);
    // A cached list is not asked again unless forced.
    await s.loadCredentials(WS);
    expect(answers).toHaveLength(2);
  });

  it("loads usage afresh each time and reports failures", async () => {
    let n = 0;
    fakeApi({
      "GET /api/v1/credentials/c-1/usage/": () =>
        ++n === 1 ? { body: [] } : { status: 500, body: { code: "error", message: "Server error." } },
    });
    await useWorkspaceData.getState().loadUsage("c-1");
    expect(useWorkspaceData.getState().usage["c-1"]).toEqual({ status: "ready", data: [], error: null });
    await useWorkspaceData.getState().loadUsage("c-1");
    expect(useWorkspaceData.getState().usage["c-1"]).toMatchObject({ status: "error", error: "Server error." });
  });
});
