import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

const backend = "http://127.0.0.1:8000";

// Django serves frontend/dist at the site root (WhiteNoise) and index.html for every
// non-API path, so assets are absolute under /assets/.
export default defineConfig({
  base: "/",
  plugins: [react()],
  build: {
    outDir: "dist",
    assetsDir: "assets",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 2000,
    rolldownOptions: {
      output: {
        // The canvas library gets its own chunk, shared by the editor and run pages.
        codeSplitting: {
          groups: [{ name: "xyflow", test: /node_modules[\\/](@xyflow|d3-[a-z-]+|classcat)[\\/]/ }],
        },
      },
    },
  },
  worker: {
    format: "es",
  },
  server: {
    port: 5173,
    proxy: {
      "/api": { target: backend, changeOrigin: false },
      "/ws": { target: backend, ws: true, changeOrigin: false },
      "/hooks": { target: backend },
      "/admin": { target: backend },
      "/static": { target: backend },
    },
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    setupFiles: ["src/test/setup.ts"],
    restoreMocks: true,
  },
});
