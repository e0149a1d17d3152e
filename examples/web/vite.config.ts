import { defineConfig } from "vite";

// The paths of Runline's API. The dev server (and `vite preview`) forwards them to RUNLINE_URL, so the page and
// the API share one origin: Runline sends no CORS headers, and the page needs none.
export const API_PATHS = ["/threads", "/assistants", "/runs", "/info", "/ok"];

const target = process.env.RUNLINE_URL ?? "http://127.0.0.1:2024";
const proxy = Object.fromEntries(API_PATHS.map((p) => [p, { target, changeOrigin: true }]));

export default defineConfig({
  // JSX with React's automatic runtime, compiled by Vite's own transformer: no @vitejs/plugin-react needed.
  oxc: { jsx: { runtime: "automatic" } },
  server: { host: "127.0.0.1", port: 5173, proxy },
  preview: { host: "127.0.0.1", port: 4173, proxy },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    chunkSizeWarningLimit: 1024,
    rolldownOptions: {
      // Two pages: the 1.x hook (index.html) and the legacy one (legacy.html).
      input: { main: "index.html", legacy: "legacy.html" },
      // The SDK's React modules start with "use client" (for server-component bundlers); meaningless here.
      onwarn(warning, warn) {
        if (warning.code === "MODULE_LEVEL_DIRECTIVE") return;
        warn(warning);
      },
    },
  },
});
