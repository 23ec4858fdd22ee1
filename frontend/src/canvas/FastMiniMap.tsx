/**
 * A minimap that costs the same at 1,000 nodes as at 10. React Flow's <MiniMap> renders one
 * component per node, each subscribed to the flow store, so every pan frame re-ran 1,000 selectors
 * (the canvas benchmark measured it as the largest single cost of panning a 1,000-node graph).
 * This one draws the nodes as one path per colour, recomputed only when the nodes change, and
 * subscribes to the viewport once. Same look (React Flow's minimap classes), and the same
 * gestures: press or drag to move the view there, wheel to zoom.
 */
import { Panel, useReactFlow, useStore, type Node, type ReactFlowState } from "@xyflow/react";
import { memo, useMemo, useRef, type PointerEvent, type WheelEvent } from "react";
import { shallow } from "zustand/shallow";
import { MAX_ZOOM, MIN_ZOOM } from "./canvasOptions";

const WIDTH = 200;
const HEIGHT = 150;
const OFFSET_SCALE = 5;

const viewSelector = (s: ReactFlowState) => ({
  tx: s.transform[0],
  ty: s.transform[1],
  zoom: s.transform[2],
  width: s.width,
  height: s.height,
});

export const FastMiniMap = memo(function FastMiniMap<N extends Node>({
  nodes,
  nodeColor,
}: {
  nodes: readonly N[];
  nodeColor: (n: N) => string;
}) {
  const rf = useReactFlow();
  // One subscription, compared field by field: the view changes, nothing else re-renders.
  const view = useStore(viewSelector, shallow);

  const { paths, bounds } = useMemo(() => {
    const byColor = new Map<string, string>();
    let selected = "";
    let minX = Infinity;
    let minY = Infinity;
    let maxX = -Infinity;
    let maxY = -Infinity;
    for (const n of nodes) {
      if (n.hidden) continue;
      const w = n.measured?.width ?? n.width ?? 220;
      const h = n.measured?.height ?? n.height ?? 52;
      const { x, y } = n.position;
      const rect = `M${x},${y}h${w}v${h}h${-w}z`;
      const c = nodeColor(n);
      byColor.set(c, (byColor.get(c) ?? "") + rect);
      if (n.selected) selected += rect;
      minX = Math.min(minX, x);
      minY = Math.min(minY, y);
      maxX = Math.max(maxX, x + w);
      maxY = Math.max(maxY, y + h);
    }
    return {
      paths: { byColor: [...byColor], selected },
      bounds: Number.isFinite(minX) ? { minX, minY, maxX, maxY } : null,
    };
  }, [nodes, nodeColor]);

  // The same framing as React Flow's minimap: the nodes and the view, with a margin.
  const vb = {
    x: -view.tx / view.zoom,
    y: -view.ty / view.zoom,
    width: view.width / view.zoom,
    height: view.height / view.zoom,
  };
  const bx = Math.min(vb.x, bounds?.minX ?? vb.x);
  const by = Math.min(vb.y, bounds?.minY ?? vb.y);
  const bw = Math.max(vb.x + vb.width, bounds?.maxX ?? -Infinity) - bx;
  const bh = Math.max(vb.y + vb.height, bounds?.maxY ?? -Infinity) - by;
  const viewScale = Math.max(bw / WIDTH, bh / HEIGHT) || 1;
  const viewWidth = viewScale * WIDTH;
  const viewHeight = viewScale * HEIGHT;
  const offset = OFFSET_SCALE * viewScale;
  const x = bx - (viewWidth - bw) / 2 - offset;
  const y = by - (viewHeight - bh) / 2 - offset;
  const w = viewWidth + offset * 2;
  const h = viewHeight + offset * 2;

  const svg = useRef<SVGSVGElement>(null);
  const toFlow = (e: { clientX: number; clientY: number }) => {
    const r = svg.current!.getBoundingClientRect();
    return { x: x + ((e.clientX - r.left) / r.width) * w, y: y + ((e.clientY - r.top) / r.height) * h };
  };
  const moveTo = (e: PointerEvent<SVGSVGElement>) => {
    const p = toFlow(e);
    void rf.setCenter(p.x, p.y, { zoom: view.zoom });
  };

  return (
    <Panel position="bottom-right" className="react-flow__minimap" data-testid="rf__minimap">
      <svg
        ref={svg}
        width={WIDTH}
        height={HEIGHT}
        viewBox={`${x} ${y} ${w} ${h}`}
        className="react-flow__minimap-svg"
        role="img"
        aria-label="Minimap"
        onPointerDown={(e) => {
          e.currentTarget.setPointerCapture(e.pointerId);
          moveTo(e);
        }}
        onPointerMove={(e) => {
          if (e.buttons & 1) moveTo(e);
        }}
        onWheel={(e: WheelEvent<SVGSVGElement>) => {
          const p = toFlow(e);
          const zoom = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, view.zoom * Math.pow(2, -e.deltaY * 0.002)));
          void rf.setCenter(p.x, p.y, { zoom });
        }}
      >
        {paths.byColor.map(([color, d]) => (
          <path key={color} d={d} style={{ fill: color }} shapeRendering="crispEdges" />
        ))}
        {paths.selected && <path d={paths.selected} fill="none" stroke="var(--primary)" strokeWidth={2 * viewScale} />}
        <path
          className="react-flow__minimap-mask"
          d={`M${x - offset},${y - offset}h${w + offset * 2}v${h + offset * 2}h${-w - offset * 2}z M${vb.x},${vb.y}h${vb.width}v${vb.height}h${-vb.width}z`}
          fillRule="evenodd"
          pointerEvents="none"
        />
      </svg>
    </Panel>
  );
}) as <N extends Node>(props: { nodes: readonly N[]; nodeColor: (n: N) => string }) => React.ReactElement;
