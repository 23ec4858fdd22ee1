/**
 * What the engine decides about documents, read from `generated/engineCatalog.json`: the node types
 * (category, handles, default config), the empty document, the schema version. That file is generated
 * from `workers/engine` (`make generate`) and checked against it in the tests, so the editor
 * writes exactly what the engine would assume into new nodes and documents.
 */
import engineCatalog from "../generated/engineCatalog.json";
import type { NodeConfig, NodeType, WorkflowDocument } from "./types";

interface EngineNodeType {
  category: "agent" | "control";
  has_target: boolean;
  has_source: boolean;
  default_config: NodeConfig;
}

interface EngineCatalog {
  schema_version: number;
  node_types: Record<NodeType, EngineNodeType>;
  new_document: WorkflowDocument;
  /** A model name a user may type for a credential that serves any name (the validation's own rule). */
  served_model_name: { pattern: string; max_length: number };
  // `limits` is there too; no check in the browser reads one yet (the server enforces them).
}

const ENGINE = engineCatalog as EngineCatalog;

export const SCHEMA_VERSION = ENGINE.schema_version;
export const ENGINE_NODE_TYPES = ENGINE.node_types;
export const NODE_TYPES = Object.keys(ENGINE.node_types) as NodeType[];
export const SERVED_MODEL_NAME = ENGINE.served_model_name;

/** The engine's configuration for a new node of `type` (a fresh copy). */
export function defaultConfig(type: NodeType): NodeConfig {
  return structuredClone(ENGINE.node_types[type].default_config);
}

/** A new, empty document with the engine's defaults (a fresh copy). */
export function emptyDocument(name = ENGINE.new_document.name): WorkflowDocument {
  return { ...structuredClone(ENGINE.new_document), name };
}
