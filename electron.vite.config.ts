import { resolve } from 'node:path';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'electron-vite';

export default defineConfig({
  main: {
    build: {
      rollupOptions: {
        input: {
          // The thin Electron entry, and the plain-Node programs built from the same sources.
          index: resolve(__dirname, 'src/main/index.ts'),
          cli: resolve(__dirname, 'src/cli/entry.ts'),
          benchEngine: resolve(__dirname, 'tools/bench/engine.ts'),
          benchGallery: resolve(__dirname, 'tools/bench/gallery.ts'),
          serve: resolve(__dirname, 'src/main/server/main.ts'),
          engineProcess: resolve(__dirname, 'src/main/host/engineProcess.ts'),
          solverDocs: resolve(__dirname, 'tools/docs/solverDocs.ts'),
          defaultModelDocs: resolve(__dirname, 'tools/docs/defaultModel.ts'),
          inpaintingDocs: resolve(__dirname, 'tools/docs/inpainting.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      rollupOptions: { input: { index: resolve(__dirname, 'src/preload/index.ts') } },
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
