/** Test fixtures shared by the `workflow` and `map` node editors' tests: the server, and a config store. */
import { useState, type ReactNode } from "react";
import type { InputDecl, NodeConfig } from "../../doc/types";
import { fakeApi, WS } from "../../test/fakeApi";
import { WorkspaceScope } from "../../workspace/scope";
import type { Patcher } from "./fields";

export const OWN = "33333333-3333-3333-3333-333333333333";
export const CHILD = "44444444-4444-4444-4444-444444444444";

/** The server of a workspace holding this workflow and a child (`version` versions) declaring `inputs`. */
export function childApi(inputs: Record<string, InputDecl>, version = 3) {
  const workflow = (n: number) => ({
    id: CHILD,
    name: "Summarise",
    version: n,
    document: { inputs, nodes: [], edges: [] },
  });
  return fakeApi({
    "GET /api/v1/workflows/": () => ({
      body: {
        count: 2,
        next: null,
        previous: null,
        results: [
          { id: OWN, name: "Parent", version: 1 },
          { id: CHILD, name: "Summarise", version },
        ],
      },
    }),
    [`GET /api/v1/workflows/${CHILD}/`]: () => ({ body: workflow(version) }),
    [`GET /api/v1/workflows/${CHILD}/versions/2/`]: () => ({
      body: { number: 2, document: { inputs, nodes: [], edges: [] }, problems: [] },
    }),
  });
}

/** An editor over a node's config kept as the editor's store keeps it (each patch merged in), in `seen`. */
export function ConfigHarness({
  initial,
  seen,
  Editor,
}: {
  initial: NodeConfig;
  seen: NodeConfig[];
  Editor: (p: { cfg: NodeConfig; setCfg: Patcher<NodeConfig> }) => ReactNode;
}) {
  const [cfg, setCfg] = useState(initial);
  return (
    <WorkspaceScope.Provider value={WS}>
      <Editor
        cfg={cfg}
        setCfg={(patch) => {
          const next = { ...cfg, ...patch };
          seen.push(next);
          setCfg(next);
        }}
      />
    </WorkspaceScope.Provider>
  );
}
