/**
 * `npm run bench:gallery-scroll`: scroll frame times of the studio's virtualised gallery in
 * Debian's Chromium. Builds src/renderer/src/testing/galleryScrollBench.ts (the real Gallery
 * component and GalleryState over a stand-in API of `--items N` generations, default 100,000)
 * with the app's Svelte compiler, renders it at the gallery panel's size in the studio (300 px
 * wide), and scrolls it one step per requestAnimationFrame: a wheel-like scroll (40 px a frame)
 * and a run from top to bottom of the whole list in 600 frames (each frame a new set of rows).
 * Prints the median and 99th percentile of the frame intervals and of each frame's update
 * (scroll handler, Svelte update, layout). Plain JavaScript so that it runs without a build
 * (vite and playwright-core are dev dependencies the app's bundles never contain). A
 * benchmark: it prints, it does not fail.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { chromium } from 'playwright-core';
import { build } from 'vite';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RENDERER = path.join(ROOT, 'src/renderer');
const args = process.argv.slice(2);
const itemsArg = args.indexOf('--items');
const items = itemsArg >= 0 ? Number(args[itemsArg + 1]) : 100_000;
if (!Number.isInteger(items) || items < 1) {
  process.stderr.write('bench:gallery-scroll: --items must be a whole number >= 1\n');
  process.exit(2);
}
if (!existsSync(CHROMIUM)) {
  process.stderr.write(`bench:gallery-scroll: ${CHROMIUM} is missing (apt-get install chromium)\n`);
  process.exit(2);
}

/** The page script as one classic script, built as the app builds (production Svelte). */
async function bundle() {
  const result = await build({
    configFile: false,
    root: RENDERER,
    logLevel: 'silent',
    mode: 'production',
    define: { 'process.env.NODE_ENV': JSON.stringify('production') },
    plugins: [svelte({ configFile: false, emitCss: false })],
    build: {
      write: false,
      copyPublicDir: false,
      lib: { entry: path.join(RENDERER, 'src/testing/galleryScrollBench.ts'), formats: ['iife'], name: 'galleryScrollBench', fileName: () => 'bench.js' },
    },
  });
  const chunk = (Array.isArray(result) ? result : [result]).flatMap((o) => o.output).find((o) => o.type === 'chunk');
  if (!chunk) throw new Error('the bench page build produced no script');
  return chunk.code;
}

function percentile(values, p) {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

const [code, browser] = await Promise.all([
  bundle(),
  chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] }),
]);
try {
  const version = browser.version();
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = [];
  page.on('pageerror', (error) => errors.push(error));
  await page.setContent(
    '<!doctype html><html><head><meta charset="utf-8"><title>gallery scroll bench</title></head>' +
      '<body style="margin:0"><div id="root" style="display:flex;flex-direction:column;width:300px;height:760px;padding:8px;box-sizing:border-box"></div></body></html>',
  );
  await page.addStyleTag({ path: path.join(RENDERER, 'src/app.css') });
  await page.addScriptTag({ content: code });
  await page.evaluate((n) => globalThis.galleryScrollBench.mountGallery(n), items);
  await page.waitForTimeout(500); // the first thumbnails
  const height = await page.evaluate(() => globalThis.galleryScrollBench.scrollHeight());
  const runs = [
    ['warm-up', 120, 40],
    ['wheel-like, 40 px a frame', 600, 40],
    ['whole list in 600 frames', 600, Math.ceil(height / 600)],
  ];
  console.log(`gallery scroll benchmark: ${items.toLocaleString('en')} items, grid 300 px wide (${height.toLocaleString('en')} px tall); Chromium ${version} headless, software rendering; ${os.cpus()[0]?.model ?? 'cpu'}, ${os.availableParallelism?.() ?? os.cpus().length} cores\n`);
  const rows = [];
  for (const [name, frames, px] of runs) {
    const run = await page.evaluate(([f, p]) => globalThis.galleryScrollBench.scroll(f, p), [frames, px]);
    if (name === 'warm-up') continue;
    rows.push({ name: `${name} (${px} px)`, run });
  }
  const width = Math.max(...rows.map((r) => r.name.length));
  const f2 = (v) => v.toFixed(2).padStart(8);
  console.log(`${'scroll'.padEnd(width)}  ${'frame ms: median'.padStart(16)} ${'p99'.padStart(8)} ${'max'.padStart(8)}   ${'update ms: median'.padStart(17)} ${'p99'.padStart(8)} ${'max'.padStart(8)}   rendered`);
  for (const { name, run } of rows) {
    console.log(
      `${name.padEnd(width)}  ${f2(percentile(run.frames, 50)).padStart(16)} ${f2(percentile(run.frames, 99))} ${f2(Math.max(...run.frames))}   ` +
        `${f2(percentile(run.updates, 50)).padStart(17)} ${f2(percentile(run.updates, 99))} ${f2(Math.max(...run.updates))}   ` +
        `${run.rendered} items, first #${run.firstRenderedId}; ${run.frames.length} frames, ${run.listCalls} page loads, ${run.thumbnailCalls} thumbnails so far`,
    );
  }
  console.log('\nframe: interval between animation frames (16.7 ms = every frame at 60 Hz); update: the scroll handler, Svelte update and layout of one frame');
  if (errors.length) console.log(`page errors: ${errors.map((e) => e.message).join('; ')}`);
} finally {
  await browser.close();
}
