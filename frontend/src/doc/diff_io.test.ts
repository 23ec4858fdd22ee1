import { describe, expect, it } from "vitest";
import { diffDocuments, isEmptyDiff } from "./diff";
import { generateLayeredDocument } from "./generate";
import { DocumentParseError, documentToText, parseDocumentText } from "./io";
import { emptyDocument } from "./engine";

describe("diffDocuments", () => {
  it("finds added, removed and changed nodes and edges", () => {
    const a = generateLayeredDocument(6, 2);
    const b = structuredClone(a);
    b.nodes = b.nodes.filter((n) => n.id !== "coder-2");
    b.nodes[1]!.data.config.temperature = 1.5;
    b.nodes.push({ id: "new-1", type: "coder", position: { x: 0, y: 0 }, data: { label: "n", config: {} } });
    b.edges[0]!.label = "go";
    b.settings.max_concurrency = 2;
    const d = diffDocuments(a, b);
    expect(d.nodes.added).toEqual(["new-1"]);
    expect(d.nodes.removed).toEqual(["coder-2"]);
    expect(d.nodes.changed).toEqual([{ id: b.nodes[1]!.id, fields: ["data.config.temperature"] }]);
    expect(d.edges.changed[0]!.fields).toEqual(["label"]);
    expect(d.settingsChanged).toBe(true);
    expect(isEmptyDiff(diffDocuments(a, structuredClone(a)))).toBe(true);
  });
});

describe("import/export text", () => {
  it("reads back what it writes, as JSON and YAML", () => {
    const doc = generateLayeredDocument(10, 3);
    expect(parseDocumentText(documentToText(doc, "json"))).toEqual(doc);
    expect(parseDocumentText(documentToText(doc, "yaml"))).toEqual(doc);
  });

  it("fills defaults and accepts a wrapped document", () => {
    const d = parseDocumentText(JSON.stringify({ document: { nodes: [{ id: "a", type: "coder" }] } }));
    expect(d.schema_version).toBe(1);
    expect(d.nodes[0]!.data.label).toBe("a");
    expect(d.edges).toEqual([]);
    expect(d.settings.max_concurrency).toBe(emptyDocument().settings.max_concurrency);
  });

  it("refuses what is not a document", () => {
    expect(() => parseDocumentText("a: [")).toThrow(DocumentParseError);
    expect(() => parseDocumentText("[]")).toThrow(DocumentParseError);
    expect(() => parseDocumentText('{"nodes": [{"id": 1}]}')).toThrow(DocumentParseError);
    expect(() => parseDocumentText('{"schema_version": 2, "nodes": []}')).toThrow(/schema_version/);
  });
});

describe("generateLayeredDocument", () => {
  it("builds exactly n nodes, connected, acyclic", () => {
    const doc = generateLayeredDocument(1000, 25);
    expect(doc.nodes).toHaveLength(1000);
    expect(new Set(doc.nodes.map((n) => n.id)).size).toBe(1000);
    const ids = new Set(doc.nodes.map((n) => n.id));
    expect(doc.edges.every((e) => ids.has(e.source) && ids.has(e.target))).toBe(true);
    const targets = new Set(doc.edges.map((e) => e.target));
    expect(doc.nodes.filter((n) => n.type !== "input").every((n) => targets.has(n.id))).toBe(true);
  });
});
