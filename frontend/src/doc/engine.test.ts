import { describe, expect, it } from "vitest";
import { createEditorStore } from "../editor/store";
import { NODE_CATALOG, PALETTE_ORDER } from "./catalog";
import { ENGINE_NODE_TYPES, NODE_TYPES, SCHEMA_VERSION, defaultConfig, emptyDocument } from "./engine";
import { parseDocumentText } from "./io";

describe("the engine's catalog", () => {
  it("gives every engine node type a presentation and a palette slot", () => {
    expect([...PALETTE_ORDER].sort()).toEqual([...NODE_TYPES].sort());
    for (const type of NODE_TYPES) {
      expect(NODE_CATALOG[type].title).toBeTruthy();
      expect(NODE_CATALOG[type].agent).toBe(ENGINE_NODE_TYPES[type].category === "agent");
    }
  });

  it("writes the engine's default config into a new node, as a copy", () => {
    const store = createEditorStore(emptyDocument("t"));
    const id = store.getState().addNode("coordinator", { x: 0, y: 0 });
    const config = store.getState().nodes.find((n) => n.id === id)!.data.config;
    expect(config).toEqual(ENGINE_NODE_TYPES.coordinator.default_config);
    config.temperature = 9;
    expect(defaultConfig("coordinator").temperature).not.toBe(9);
  });

  it("refuses a document of another schema version", () => {
    expect(emptyDocument().schema_version).toBe(SCHEMA_VERSION);
    expect(() => parseDocumentText(JSON.stringify({ schema_version: SCHEMA_VERSION + 1, nodes: [] }))).toThrow(
      /schema_version/,
    );
  });
});
