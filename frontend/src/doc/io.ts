/** Import/export of documents as JSON or YAML text. */
import { parse, stringify } from "yaml";
import { SCHEMA_VERSION, emptyDocument } from "./engine";
import type { WorkflowDocument } from "./types";

export class DocumentParseError extends Error {}

/** Parses JSON or YAML text (YAML is a superset of JSON) into a document, with defaults filled in. */
export function parseDocumentText(text: string): WorkflowDocument {
  let value: unknown;
  try {
    value = parse(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new DocumentParseError(`Not valid JSON or YAML: ${err instanceof Error ? err.message : String(err)}`);
  }
  // An export may wrap the document (e.g. a Workflow object).
  if (value && typeof value === "object" && "document" in value && !("nodes" in value))
    value = (value as { document: unknown }).document;
  return normaliseDocument(value);
}

export function normaliseDocument(value: unknown): WorkflowDocument {
  if (!value || typeof value !== "object" || Array.isArray(value))
    throw new DocumentParseError("A workflow document is an object with nodes and edges.");
  const v = value as Partial<WorkflowDocument>;
  if (!Array.isArray(v.nodes)) throw new DocumentParseError("The document has no nodes list.");
  if (v.edges !== undefined && !Array.isArray(v.edges)) throw new DocumentParseError("edges must be a list.");
  if (v.schema_version !== undefined && v.schema_version !== SCHEMA_VERSION)
    throw new DocumentParseError(
      `Unsupported schema_version ${String(v.schema_version)} (expected ${SCHEMA_VERSION}).`,
    );
  for (const n of v.nodes) {
    if (!n || typeof n !== "object" || typeof n.id !== "string" || typeof n.type !== "string")
      throw new DocumentParseError("Every node needs a string id and type.");
  }
  return {
    ...v,
    schema_version: SCHEMA_VERSION,
    name: typeof v.name === "string" ? v.name : "Imported workflow",
    description: typeof v.description === "string" ? v.description : "",
    settings: { ...emptyDocument().settings, ...(v.settings ?? {}) },
    inputs: v.inputs && typeof v.inputs === "object" ? v.inputs : {},
    nodes: v.nodes.map((n) => ({
      ...n,
      position: n.position ?? { x: 0, y: 0 },
      data: { ...(n.data ?? {}), label: n.data?.label ?? n.id, config: n.data?.config ?? {} },
    })),
    edges: v.edges ?? [],
  } as WorkflowDocument;
}

export function documentToText(doc: WorkflowDocument, format: "json" | "yaml"): string {
  return format === "json" ? `${JSON.stringify(doc, null, 2)}\n` : stringify(doc);
}

export function downloadText(filename: string, text: string, type: string): void {
  const blob = new Blob([text], { type });
  downloadBlob(filename, blob);
}

export function downloadBlob(filename: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
