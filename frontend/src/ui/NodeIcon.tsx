import { nodeTypeInfo } from "../doc/catalog";

export function NodeIcon({ type, size = 18 }: { type: string; size?: number }) {
  const info = nodeTypeInfo(type);
  return (
    <span
      className="node-icon"
      style={{ background: info.color, width: size + 8, height: size + 8 }}
      aria-hidden="true"
    >
      <svg
        width={size}
        height={size}
        viewBox="0 0 24 24"
        fill="none"
        stroke="white"
        strokeWidth="2"
        strokeLinecap="round"
        strokeLinejoin="round"
      >
        <path d={info.icon} />
      </svg>
    </span>
  );
}
