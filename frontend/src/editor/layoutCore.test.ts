import ELK from "elkjs/lib/elk.bundled.js";
import { describe, expect, it } from "vitest";
import { runLayout, toElkGraph } from "./layoutCore";

describe("ELK layout", () => {
  it("lays a graph out left to right", async () => {
    const req = {
      nodes: ["a", "b", "c", "d"].map((id) => ({ id, width: 220, height: 64 })),
      edges: [
        { id: "e1", source: "a", target: "b" },
        { id: "e2", source: "a", target: "c" },
        { id: "e3", source: "b", target: "d" },
        { id: "e4", source: "c", target: "d" },
        { id: "bad", source: "a", target: "ghost" },
      ],
    };
    expect(toElkGraph(req).edges).toHaveLength(4);
    const pos = await runLayout(new ELK(), req);
    expect(pos.a!.x).toBeLessThan(pos.b!.x);
    expect(pos.b!.x).toBe(pos.c!.x);
    expect(pos.c!.x).toBeLessThan(pos.d!.x);
    expect(pos.b!.y).not.toBe(pos.c!.y);
  });
});
