import { fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { NODE_CATALOG, PALETTE_ORDER } from "../../doc/catalog";
import { defaultConfig } from "../../doc/engine";
import type { NodeConfig } from "../../doc/types";
import { ApprovalEditor } from "./ApprovalEditor";

function editor(cfg: NodeConfig) {
  const setCfg = vi.fn();
  render(<ApprovalEditor cfg={cfg} setCfg={setCfg} />);
  return setCfg;
}

describe("approval node", () => {
  it("is in the palette with the engine's default config", () => {
    expect(PALETTE_ORDER).toContain("approval");
    expect(NODE_CATALOG.approval.agent).toBe(false);
    expect(defaultConfig("approval")).toMatchObject({ approvers: "editors", on_timeout: "reject" });
  });

  it("edits the message, who decides, the timeout and what it decides", () => {
    const setCfg = editor(defaultConfig("approval"));
    fireEvent.change(screen.getByTestId("approval-message"), { target: { value: "Ship {{ draft }}?" } });
    expect(setCfg).toHaveBeenLastCalledWith({ message: "Ship {{ draft }}?" }, "message");
    fireEvent.change(screen.getByTestId("approval-who"), { target: { value: "named" } });
    expect(setCfg).toHaveBeenLastCalledWith({ approvers: [] }, "approvers");
    fireEvent.change(screen.getByTestId("approval-timeout"), { target: { value: "600" } });
    expect(setCfg).toHaveBeenLastCalledWith({ timeout_s: 600 }, "timeout_s");
    fireEvent.change(screen.getByTestId("approval-on-timeout"), { target: { value: "fail" } });
    expect(setCfg).toHaveBeenLastCalledWith({ on_timeout: "fail" }, "on_timeout");
  });

  it("takes named approvers as a list of usernames", () => {
    const setCfg = editor({ ...defaultConfig("approval"), approvers: ["ann"] });
    expect((screen.getByTestId("approval-approvers") as HTMLInputElement).value).toBe("ann");
    fireEvent.change(screen.getByTestId("approval-approvers"), { target: { value: "ann, bob  carl" } });
    expect(setCfg).toHaveBeenLastCalledWith({ approvers: ["ann", "bob", "carl"] }, "approvers");
  });
});
