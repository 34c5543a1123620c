/// <reference types="vitest/config" />
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The app reads its API URL and sign-in settings from /config.json at run time (written by the
// local stack, or by `make deploy` in AWS): nothing environment-specific is baked into the bundle.
export default defineConfig({
  plugins: [react()],
  resolve: { alias: { "@": fileURLToPath(new URL("./src", import.meta.url)) } },
  build: {
    target: "es2022",
    sourcemap: false,
    // no inline <script>/modulepreload polyfill: the Content-Security-Policy allows scripts from 'self' only
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
  server: { port: 5173 },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
