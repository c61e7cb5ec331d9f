// Vite builds the UI into `ui/dist`, which `tauri.conf.json` embeds into the
// desktop binary; Vitest shares this file so tests see the same resolution.
import { defineConfig } from "vitest/config";

export default defineConfig({
  // Tauri serves the embedded files from its own origin root.
  base: "/",
  clearScreen: false,
  server: {
    port: 5173,
    strictPort: true,
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // WebKitGTK 2.40+ (Debian 12) and current WebView2/WKWebView all run ES2022.
    target: "es2022",
    sourcemap: false,
    reportCompressedSize: false,
  },
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
  },
});
