import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Me, Role } from "../api/types";
import { CredentialsPage } from "../pages/CredentialsPage";
import { useSession } from "../session/store";
import { credential, fakeApi, WS } from "../test/fakeApi";
import { useWorkspaceData } from "../workspace/store";

const SECRET = "sk-live-Zq81-very-secret-key-k9X2";

function signIn(role: Role) {
  const me = { id: 1, username: "demo", workspaces: [{ id: WS, name: "Demo", role }] } as unknown as Me;
  useSession.setState({ status: "ready", me, workspaceId: WS, error: null });
}

function renderPage() {
  return render(
    <MemoryRouter>
      <CredentialsPage />
    </MemoryRouter>,
  );
}

const page = (results: unknown[]) => ({ body: { next: null, previous: null, results } });

beforeEach(() => {
  useWorkspaceData.setState({ credentials: {}, models: {}, usage: {} });
});
afterEach(() => {
  vi.unstubAllGlobals();
});

describe("credentials page", () => {
  it("adds a credential: the secret is sent once, emptied from its input and absent from the page", async () => {
    signIn("owner");
    const created = credential({
      id: "c-9",
      name: "Local vLLM",
      provider: "openai_compatible",
      hint: "k9X2",
      config: { api_base: "https://llm.example.com/v1" },
    });
    const calls = fakeApi({
      "GET /api/v1/credentials/": () => page([credential()]),
      "POST /api/v1/credentials/": () => ({ status: 201, body: created }),
    });
    renderPage();
    const row = await screen.findByTestId("credential-row-c-1");
    expect(within(row).getByTestId("credential-row-hint").textContent).toBe("••••9f3a");
    expect(within(row).getByTestId("credential-row-last-used").textContent).toBe("never");

    fireEvent.click(screen.getByTestId("credential-add"));
    fireEvent.change(screen.getByTestId("credential-provider"), { target: { value: "openai_compatible" } });
    fireEvent.change(screen.getByTestId("credential-name"), { target: { value: "Local vLLM" } });
    const secretInput = screen.getByTestId("credential-secret-api_key") as HTMLInputElement;
    expect(secretInput.type).toBe("password");
    fireEvent.change(secretInput, { target: { value: SECRET } });
    fireEvent.change(screen.getByTestId("credential-config-api_base"), {
      target: { value: " https://llm.example.com/v1 " },
    });
    // Typed, not yet sent: the value is the input's own, not mirrored into the HTML.
    expect(document.body.innerHTML).not.toContain(SECRET);
    fireEvent.click(screen.getByTestId("credential-add-submit"));
    expect(secretInput.value).toBe("");

    await screen.findByTestId("credential-row-c-9");
    // The list updates from the store before the dialog's own close runs.
    await waitFor(() => expect(screen.queryByTestId("credential-add-dialog")).toBeNull());
    expect(calls.find((c) => c.method === "POST")?.body).toEqual({
      workspace: WS,
      name: "Local vLLM",
      provider: "openai_compatible",
      secret: { api_key: SECRET },
      config: { api_base: "https://llm.example.com/v1" },
    });
    expect(within(screen.getByTestId("credential-row-c-9")).getByTestId("credential-row-hint").textContent).toBe(
      "••••k9X2",
    );
    expect(document.body.innerHTML).not.toContain(SECRET);
    expect(JSON.stringify(useWorkspaceData.getState())).not.toContain(SECRET);
  });

  it("shows a refused add and empties the secret, which must be typed again", async () => {
    signIn("editor");
    fakeApi({
      "GET /api/v1/credentials/": () => page([]),
      "POST /api/v1/credentials/": () => ({
        status: 409,
        body: { code: "name_taken", message: "A credential named “Team” exists in this workspace." },
      }),
    });
    renderPage();
    await screen.findByText("No credentials yet");
    fireEvent.click(screen.getByTestId("credential-add"));
    fireEvent.change(screen.getByTestId("credential-name"), { target: { value: "Team" } });
    fireEvent.change(screen.getByTestId("credential-secret-api_key"), { target: { value: SECRET } });
    fireEvent.click(screen.getByTestId("credential-add-submit"));
    const error = await screen.findByTestId("credential-add-error");
    expect(error.textContent).toContain("exists in this workspace");
    expect(error.textContent).toContain("enter it again");
    expect((screen.getByTestId("credential-secret-api_key") as HTMLInputElement).value).toBe("");
    expect(document.body.innerHTML).not.toContain(SECRET);
  });

  it("rotates a credential with PATCH {secret} and shows the new hint", async () => {
    signIn("owner");
    const calls = fakeApi({
      "GET /api/v1/credentials/": () => page([credential()]),
      "PATCH /api/v1/credentials/c-1/": () => ({ body: credential({ hint: "k9X2" }) }),
    });
    renderPage();
    fireEvent.click(await screen.findByTestId("credential-rotate"));
    fireEvent.change(screen.getByTestId("credential-secret-api_key"), { target: { value: SECRET } });
    fireEvent.click(screen.getByTestId("credential-rotate-submit"));
    await waitFor(() => expect(screen.getByTestId("credential-row-hint").textContent).toBe("••••k9X2"));
    expect(calls.at(-1)).toMatchObject({ method: "PATCH", body: { secret: { api_key: SECRET } } });
    expect(Object.keys(calls.at(-1)!.body as object)).toEqual(["secret"]);
    expect(document.body.innerHTML).not.toContain(SECRET);
  });

  it("explains a delete refused with in_use and lists where the credential is used", async () => {
    signIn("owner");
    const workflows = [
      { id: "w-1", name: "Support triage" },
      { id: "w-2", name: "Weekly digest" },
    ];
    fakeApi({
      "GET /api/v1/credentials/": () => page([credential()]),
      "DELETE /api/v1/credentials/c-1/": () => ({
        status: 409,
        body: { code: "in_use", message: "2 workflow(s) use this credential; change them first.", workflows },
      }),
      "GET /api/v1/credentials/c-1/usage/": () => ({ body: workflows }),
    });
    renderPage();
    fireEvent.click(await screen.findByTestId("credential-delete"));
    fireEvent.click(screen.getByTestId("credential-delete-confirm"));
    const refused = await screen.findByTestId("credential-in-use");
    expect(refused.textContent).toContain("2 workflow(s) use this credential");
    const links = within(screen.getByTestId("credential-in-use-workflows")).getAllByRole("link");
    expect(links.map((a) => [a.textContent, a.getAttribute("href")])).toEqual([
      ["Support triage", "/workflows/w-1"],
      ["Weekly digest", "/workflows/w-2"],
    ]);
    expect(screen.queryByTestId("credential-delete-confirm")).toBeNull();
    fireEvent.click(screen.getAllByRole("button", { name: "Close" }).at(-1)!);
    expect(screen.getByTestId("credential-row-c-1")).toBeTruthy();

    fireEvent.click(screen.getByTestId("credential-usage-toggle"));
    const usage = await screen.findByTestId("credential-usage-c-1");
    await waitFor(() => expect(usage.textContent).toContain("Weekly digest"));
  });

  it("deletes after confirmation", async () => {
    signIn("owner");
    const calls = fakeApi({
      "GET /api/v1/credentials/": () => page([credential()]),
      "DELETE /api/v1/credentials/c-1/": () => ({ status: 204 }),
    });
    renderPage();
    fireEvent.click(await screen.findByTestId("credential-delete"));
    expect(calls.some((c) => c.method === "DELETE")).toBe(false);
    fireEvent.click(screen.getByTestId("credential-delete-confirm"));
    await screen.findByText("No credentials yet");
    await waitFor(() => expect(screen.queryByTestId("credential-delete-dialog")).toBeNull());
  });

  it("shows viewers names only, with no way to change them", async () => {
    signIn("viewer");
    fakeApi({
      "GET /api/v1/credentials/": () => page([{ id: "c-1", workspace: WS, name: "Team OpenAI", provider: "openai" }]),
      "GET /api/v1/credentials/c-1/usage/": () => ({ body: [] }),
    });
    renderPage();
    const row = await screen.findByTestId("credential-row-c-1");
    expect(row.textContent).toContain("Team OpenAI");
    expect(row.textContent).toContain("OpenAI");
    expect(screen.getByTestId("credentials-viewer-note")).toBeTruthy();
    for (const id of ["credential-add", "credential-rotate", "credential-delete", "credential-row-hint"])
      expect(screen.queryByTestId(id)).toBeNull();
    fireEvent.click(screen.getByTestId("credential-usage-toggle"));
    expect((await screen.findByTestId("credential-usage-c-1")).textContent).toMatch(/No workflow|Looking/);
  });
});
