import {
  ReactFlow,
  useConnection,
  useReactFlow,
  getViewportForBounds,
  type EdgeTypes,
  type Viewport,
  type IsValidConnection,
  type NodeTypes,
  type OnConnectEnd,
} from "@xyflow/react";
import { CanvasChrome } from "../../canvas/CanvasChrome";
import { memo, useCallback, useLayoutEffect, useMemo, useRef, useState, type DragEvent } from "react";
import { isKnownType } from "../../doc/catalog";
import { EDGE_TYPE, UNKNOWN_NODE_TYPE, type FlowEdge, type FlowNode } from "../../doc/convert";
import { NODE_TYPES } from "../../doc/engine";
import type { DocNode, NodeType } from "../../doc/types";
import { editorStore, useEditor } from "../store";
import { FIT_VIEW_OPTIONS, MIN_ZOOM, SHARED_FLOW_PROPS } from "../../canvas/canvasOptions";
import { EditorEdge } from "./EditorEdge";
import { EditorNode } from "./EditorNode";
import { LodContext, edgesForLod, simpleEdges, useLodFromStore } from "../../canvas/lod";

export const PALETTE_MIME = "application/x-agentloom-node";

const nodeTypes: NodeTypes = Object.fromEntries([...NODE_TYPES, UNKNOWN_NODE_TYPE].map((t) => [t, EditorNode]));
const edgeTypes: EdgeTypes = { [EDGE_TYPE]: EditorEdge };
const NO_NODES: readonly DocNode[] = [];

/** While dragging a connection over a handle, says why it would be refused. */
function ConnectionHint() {
  const c = useConnection();
  if (!c.inProgress || !c.toNode || c.isValid !== false) return null;
  const from = c.fromHandle?.type === "target" ? c.toNode.id : c.fromNode.id;
  const to = c.fromHandle?.type === "target" ? c.fromNode.id : c.toNode.id;
  const check = editorStore.getState().checkConnection({ source: from, target: to });
  if (check.ok) return null;
  return (
    <div className="connection-hint" role="status" data-testid="connection-hint">
      {check.reason}
    </div>
  );
}

/**
 * `initialDocNodes`: the loaded document's nodes, framed once they are measured. An empty workflow
 * is not fitted: React Flow would otherwise keep the fit queued and jump the view when the first
 * node is dropped.
 */
export const Canvas = memo(function Canvas({ initialDocNodes = NO_NODES }: { initialDocNodes?: readonly DocNode[] }) {
  const fitOnMount = initialDocNodes.length > 0;
  // The first frame already at the fitted zoom, computed from the document's positions, so a large
  // graph mounts once at its level of detail instead of at 100 % and again after React Flow's fit
  // (which still runs once the nodes are measured, and corrects the estimate).
  const wrap = useRef<HTMLDivElement>(null);
  const [initialViewport, setInitialViewport] = useState<Viewport | null>(null);
  useLayoutEffect(() => {
    const r = wrap.current?.getBoundingClientRect();
    if (!r || initialDocNodes.length === 0) {
      setInitialViewport({ x: 0, y: 0, zoom: 1 });
      return;
    }
    let minX = Infinity;
    let minY = Infinity;
    let maxX = -Infinity;
    let maxY = -Infinity;
    for (const n of initialDocNodes) {
      const x = Number(n.position?.x ?? 0);
      const y = Number(n.position?.y ?? 0);
      minX = Math.min(minX, x);
      minY = Math.min(minY, y);
      maxX = Math.max(maxX, x + 220);
      maxY = Math.max(maxY, y + 60);
    }
    const bounds = { x: minX, y: minY, width: maxX - minX, height: maxY - minY };
    setInitialViewport(
      getViewportForBounds(bounds, r.width, r.height, MIN_ZOOM, FIT_VIEW_OPTIONS.maxZoom, FIT_VIEW_OPTIONS.padding),
    );
  }, [initialDocNodes]);
  const nodes = useEditor((s) => s.nodes);
  const edges = useEditor((s) => s.edges);
  const readOnly = useEditor((s) => s.readOnly);
  const onNodesChange = useEditor((s) => s.onNodesChange);
  const onEdgesChange = useEditor((s) => s.onEdgesChange);
  const connect = useEditor((s) => s.connect);
  const { screenToFlowPosition } = useReactFlow();
  const lod = useLodFromStore();
  const simple = simpleEdges(lod, "far");
  const byEdge = useEditor((s) => s.problemIndex.byEdge);
  const problemEdges = useMemo(() => new Set(Object.keys(byEdge)), [byEdge]);

  const isValidConnection: IsValidConnection<FlowEdge> = useCallback(
    (c) => editorStore.getState().checkConnection({ source: c.source, target: c.target }).ok,
    [],
  );

  const onConnectEnd: OnConnectEnd = useCallback((_e, state) => {
    // Released over a handle that refused the edge: tell the user why.
    if (state.isValid === false && state.toNode && state.fromNode) {
      const reversed = state.fromHandle?.type === "target";
      const source = reversed ? state.toNode.id : state.fromNode.id;
      const target = reversed ? state.fromNode.id : state.toNode.id;
      const check = editorStore.getState().checkConnection({ source, target });
      if (!check.ok) editorStore.getState().setNotice(check.reason);
    }
  }, []);

  const onDragOver = useCallback((e: DragEvent) => {
    if (!e.dataTransfer.types.includes(PALETTE_MIME)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "copy";
  }, []);

  const onDrop = useCallback(
    (e: DragEvent) => {
      const type = e.dataTransfer.getData(PALETTE_MIME);
      if (!type || !isKnownType(type)) return;
      e.preventDefault();
      const p = screenToFlowPosition({ x: e.clientX, y: e.clientY });
      editorStore.getState().addNode(type as NodeType, { x: p.x - 110, y: p.y - 30 });
    },
    [screenToFlowPosition],
  );

  return (
    <div ref={wrap} className={`canvas lod-${lod}`} data-testid="editor-canvas" onDragOver={onDragOver} onDrop={onDrop}>
      <LodContext.Provider value={lod}>
        {initialViewport && (
          <ReactFlow<FlowNode, FlowEdge>
            defaultViewport={initialViewport}
            nodes={nodes}
            edges={edgesForLod(edges, simple)}
            nodeTypes={nodeTypes}
            edgeTypes={edgeTypes}
            {...SHARED_FLOW_PROPS}
            onNodesChange={onNodesChange}
            onEdgesChange={onEdgesChange}
            onConnect={connect}
            onConnectEnd={onConnectEnd}
            isValidConnection={isValidConnection}
            nodesDraggable={!readOnly}
            nodesConnectable={!readOnly}
            selectionKeyCode="Shift"
            multiSelectionKeyCode={["Meta", "Control", "Shift"]}
            fitView={fitOnMount}
          >
            <CanvasChrome nodes={nodes} edges={edges} simple={simple} problemEdges={problemEdges} />
            <ConnectionHint />
          </ReactFlow>
        )}
      </LodContext.Provider>
    </div>
  );
});
