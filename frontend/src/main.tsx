import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import "@xyflow/react/dist/base.css";
// In this order: later files rely on the earlier ones' rules of equal weight.
import "./styles/base.css";
import "./styles/ui.css";
import "./styles/editor.css";
import "./styles/panels.css";
import "./styles/run.css";

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
