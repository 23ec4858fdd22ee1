import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { credential, fakeApi, WS } from "../test/fakeApi";
import { WorkspaceScope } from "../workspace/scope";
import { useWorkspaceData } from "../workspace/store";
import { CredentialSelect } from "./CredentialSelect";
import { ModelSelect } from "./ModelSelect";

const MODELS = [
  { id: "mock/echo", provider: "mock", label: "Echo (simulated)", simulated: true, available: true, source: "builtin" },
  {
    id: "openai/gpt-4o-mini",
    provider: "openai",
    label: "GPT-4o mini",
    simulated: false,
    available: true,
    source: "credential",
    input_cost_per_token: 0.00000015,
    output_cost_per_token: 0.0000006,
  },
  {
    id: "anthropic/claude-haiku-4-5",
    provider: "anthropic",
    label: "Claude Haiku 4.5",
    simulated: false,
    available: false,
    source: null,
    reason: "no Anthropic credential in this workspace and no operator key",
  },
];

function inScope(children: React.ReactNode) {
  return render(
    <MemoryRouter>
      <WorkspaceScope.Provider value={WS}>{children}</WorkspaceScope.Provider>
    </MemoryRouter>,
  );
}

beforeEach(() => {
  useWorkspaceData.setState({ credentials: {}, models: {}, usage: {} });
});
afterEach(() => {
  vi.unstubAllGlobals();
});

describe("model picker", () => {
  it("groups the workspace's models by provider and greys out the unavailable ones with the reason", async () => {
    const calls = fakeApi({ "GET /api/v1/models/": () => ({ body: MODELS }) });
    const onChange = vi.fn();
    inScope(<ModelSelect value="anthropic/claude-haiku-4-5" onChange={onChange} testId="model" />);
    const select = screen.getByTestId("model") as HTMLSelectElement;
    await waitFor(() => expect(select.querySelectorAll("optgroup")).toHaveLength(3));
    expect(calls[0]).toMatchObject({ path: "/api/v1/models/", query: `?workspace=${WS}` });
    expect([...select.querySelectorAll("optgroup")].map((g) => g.label)).toEqual(["Simulated", "OpenAI", "Anthropic"]);
    const haiku = select.querySelector<HTMLOptionElement>('option[value="anthropic/claude-haiku-4-5"]')!;
    expect(haiku.disabled).toBe(true);
    expect(haiku.title).toContain("no Anthropic credential");
    expect(haiku.textContent).toContain("unavailable: no Anthropic credential");
    const mini = select.querySelector<HTMLOptionElement>('option[value="openai/gpt-4o-mini"]')!;
    expect(mini.disabled).toBe(false);
    expect(mini.textContent).toBe("GPT-4o mini — $0.15 / $0.60 per 1M tokens · workspace credential");
    // The chosen model cannot be used here: say why, and where to fix it.
    const warning = screen.getByTestId("model-unavailable");
    expect(warning.textContent).toContain("no Anthropic credential");
    expect(warning.querySelector("a")?.getAttribute("href")).toBe("/settings/credentials");
    fireEvent.change(select, { target: { value: "openai/gpt-4o-mini" } });
    expect(onChange).toHaveBeenCalledWith("openai/gpt-4o-mini");
  });

  it("works with an answer that has no availability fields", async () => {
    fakeApi({
      "GET /api/v1/models/": () => ({ body: [{ id: "mock/echo" }, { id: "openai/gpt-4o", label: "GPT-4o" }] }),
    });
    inScope(<ModelSelect value="openai/old-name" onChange={() => undefined} testId="model" />);
    const select = screen.getByTestId("model") as HTMLSelectElement;
    await waitFor(() => expect(select.querySelectorAll("optgroup")).toHaveLength(2));
    expect([...select.options].every((o) => !o.disabled)).toBe(true);
    expect(select.options[0]!.textContent).toBe("openai/old-name (unknown model)");
    expect(screen.queryByTestId("model-unavailable")).toBeNull();
  });
});

describe("model picker, a name typed for a server that serves any", () => {
  const LOCAL = [
    credential({ id: "v-1", name: "Local vLLM", provider: "openai_compatible", hint: "beef" }),
    credential({ id: "o-1", name: "Team OpenAI", provider: "openai", hint: "9f3a" }),
  ];

  function answering(credentials = LOCAL) {
    return fakeApi({
      "GET /api/v1/models/": () => ({ body: MODELS }),
      "GET /api/v1/credentials/": () => ({ body: { next: null, results: credentials } }),
    });
  }

  it("offers typing a name for each credential provider that serves any, and sends only well-formed names", async () => {
    answering();
    const onChange = vi.fn();
    inScope(<ModelSelect value="openai/gpt-4o-mini" onChange={onChange} testId="model" />);
    const select = screen.getByTestId("model") as HTMLSelectElement;
    await waitFor(() => expect(select.querySelector('option[value="typed:openai_compatible"]')).not.toBeNull());
    const typed = select.querySelector<HTMLOptionElement>('option[value="typed:openai_compatible"]')!;
    expect(typed.textContent).toBe("Type a model name served by OpenAI-compatible server…");
    // An OpenAI credential serves only the catalogue's names: nothing to type for it.
    expect(select.querySelector('option[value="typed:openai"]')).toBeNull();
    fireEvent.change(select, { target: { value: "typed:openai_compatible" } });
    expect(onChange).not.toHaveBeenCalled();
    const input = screen.getByTestId("model-served") as HTMLInputElement;
    expect(select.value).toBe("typed:openai_compatible");
    for (const bad of ["llama 3", "a//b", "-rf", "llama3/", "llama\u0663", "m".repeat(201)]) {
      fireEvent.change(input, { target: { value: bad } });
      expect(screen.getByTestId("model-served-problem").getAttribute("role")).toBe("alert");
      expect(input.getAttribute("aria-invalid")).toBe("true");
    }
    expect(onChange).not.toHaveBeenCalled();
    fireEvent.change(input, { target: { value: "meta-llama/Llama-3.1-8B-Instruct" } });
    expect(onChange).toHaveBeenCalledExactlyOnceWith("openai_compatible/meta-llama/Llama-3.1-8B-Instruct");
    expect(screen.queryByTestId("model-served-problem")).toBeNull();
  });

  it("shows a typed name in the document as typed, and goes back to the catalogue", async () => {
    answering();
    const onChange = vi.fn();
    inScope(<ModelSelect value="openai_compatible/qwen2.5-coder:7b" onChange={onChange} testId="model" />);
    const select = screen.getByTestId("model") as HTMLSelectElement;
    await waitFor(() => expect(select.value).toBe("typed:openai_compatible"));
    expect((screen.getByTestId("model-served") as HTMLInputElement).value).toBe("qwen2.5-coder:7b");
    // Not listed as an unknown model: it is a name the catalogue cannot know.
    expect(select.querySelector('option[value="openai_compatible/qwen2.5-coder:7b"]')).toBeNull();
    fireEvent.change(select, { target: { value: "openai/gpt-4o-mini" } });
    expect(onChange).toHaveBeenCalledWith("openai/gpt-4o-mini");
  });

  it("offers no typing where only the catalogue's names are accepted", async () => {
    answering();
    inScope(
      <ModelSelect value="openai_compatible/llama3" onChange={() => undefined} testId="model" typedNames={false} />,
    );
    const select = screen.getByTestId("model") as HTMLSelectElement;
    await waitFor(() => expect(select.options[0]!.textContent).toBe("openai_compatible/llama3 (unknown model)"));
    expect(select.querySelector('option[value^="typed:"]')).toBeNull();
    expect(screen.queryByTestId("model-served")).toBeNull();
  });

  it("keeps an Azure deployment's provider offered after its credential is gone", async () => {
    answering([]);
    inScope(<ModelSelect value="azure/gpt-4o-prod" onChange={() => undefined} testId="model" />);
    const select = screen.getByTestId("model") as HTMLSelectElement;
    await waitFor(() => expect(select.querySelectorAll("optgroup")).toHaveLength(4));
    expect(select.value).toBe("typed:azure");
    expect((screen.getByTestId("model-served") as HTMLInputElement).value).toBe("gpt-4o-prod");
    expect(select.querySelector('option[value="typed:openai_compatible"]')).toBeNull();
  });
});

describe("credential select", () => {
  const CREDENTIALS = [
    credential({ id: "o-1", name: "Team OpenAI", provider: "openai", hint: "9f3a" }),
    credential({ id: "a-1", name: "Team Anthropic", provider: "anthropic", hint: "" }),
    credential({ id: "v-1", name: "Local vLLM", provider: "openai_compatible", hint: "beef" }),
    credential({ id: "h-1", name: "CRM", provider: "http" }),
  ];

  it("lists the credentials of the model's provider and those serving any model", async () => {
    fakeApi({ "GET /api/v1/credentials/": () => ({ body: { next: null, results: CREDENTIALS } }) });
    const onChange = vi.fn();
    inScope(<CredentialSelect value={null} model="openai/gpt-4o" onChange={onChange} testId="cred" />);
    const select = screen.getByTestId("cred") as HTMLSelectElement;
    await waitFor(() => expect(select.options).toHaveLength(3));
    expect([...select.options].map((o) => [o.value, o.textContent])).toEqual([
      ["", "Workspace default for OpenAI"],
      ["o-1", "Team OpenAI (…9f3a)"],
      ["v-1", "Local vLLM (…beef) — OpenAI-compatible server"],
    ]);
    fireEvent.change(select, { target: { value: "v-1" } });
    expect(onChange).toHaveBeenCalledWith("v-1");
    fireEvent.change(select, { target: { value: "" } });
    expect(onChange).toHaveBeenLastCalledWith(null);
  });

  it("keeps showing a chosen credential that does not fit, and says why", async () => {
    fakeApi({ "GET /api/v1/credentials/": () => ({ body: { next: null, results: CREDENTIALS } }) });
    const { rerender } = inScope(
      <CredentialSelect value="a-1" model="openai/gpt-4o" onChange={() => undefined} testId="cred" />,
    );
    const mismatch = await screen.findByTestId("cred-mismatch");
    expect(mismatch.textContent).toBe("This credential is for Anthropic, not for openai/gpt-4o.");
    expect((screen.getByTestId("cred") as HTMLSelectElement).value).toBe("a-1");
    rerender(
      <MemoryRouter>
        <WorkspaceScope.Provider value={WS}>
          <CredentialSelect value="gone" model="openai/gpt-4o" onChange={() => undefined} testId="cred" />
        </WorkspaceScope.Provider>
      </MemoryRouter>,
    );
    expect(screen.getByTestId("cred-mismatch").textContent).toContain("no longer exists");
    expect((screen.getByTestId("cred") as HTMLSelectElement).selectedOptions[0]!.textContent).toBe(
      "Deleted credential",
    );
  });
});
