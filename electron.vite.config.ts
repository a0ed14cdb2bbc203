import { resolve } from 'node:path';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'electron-vite';

export default defineConfig({
  main: {
    build: {
      rollupOptions: {
        input: {
          // The thin Electron entry, and the plain-Node programs built from the same sources.
          index: resolve(__dirname, 'src/main/electron/index.ts'),
          cli: resolve(__dirname, 'src/cli/entry.ts'),
          benchEngine: resolve(__dirname, 'tools/bench/engine.ts'),
          benchGallery: resolve(__dirname, 'tools/bench/gallery.ts'),
          benchSoak: resolve(__dirname, 'tools/bench/soak.ts'),
          benchPng: resolve(__dirname, 'tools/bench/png.ts'),
          benchStall: resolve(__dirname, 'tools/bench/stall.ts'),
          benchGrids: resolve(__dirname, 'tools/bench/grids.ts'),
          serve: resolve(__dirname, 'src/main/server/main.ts'),
          engineProcess: resolve(__dirname, 'src/main/engineProcess/main.ts'),
          solverDocs: resolve(__dirname, 'tools/docs/solverDocs.ts'),
          defaultModelDocs: resolve(__dirname, 'tools/docs/defaultModel.ts'),
          inpaintingDocs: resolve(__dirname, 'tools/docs/inpainting.ts'),
          benchmarksDocs: resolve(__dirname, 'tools/docs/benchmarks.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      // The window is sandboxed: Electron runs no ES-module preload there, and the preload's
      // `require` offers only electron, events, timers and url. So one CommonJS file with
      // everything else bundled in (src/preload/sandbox.test.ts runs it that way).
      externalizeDeps: false,
      rollupOptions: {
        input: { index: resolve(__dirname, 'src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs', codeSplitting: false },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    build: {
      rollupOptions: { input: { index: resolve(__dirname, 'src/renderer/index.html') } },
    },
    plugins: [svelte()],
  },
});
