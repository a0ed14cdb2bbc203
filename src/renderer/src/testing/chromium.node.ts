/**
 * Component tests in a real browser: builds ./harness.ts with Vite and the Svelte plugin (the
 * same compiler the app uses, browser build of the Svelte runtime), loads it into Debian's
 * Chromium through playwright-core and hands back the page. Real canvas, real pointer events,
 * no DOM emulation. Node code (checked by the root tsconfig.json); the page side is harness.ts.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { type Page, chromium } from 'playwright-core';
import { type Rolldown, build } from 'vite';

export const CHROMIUM = '/usr/bin/chromium';
const RENDERER = path.resolve(__dirname, '../..');

/** The harness as one classic script (IIFE), CSS injected by the components themselves. */
async function bundleHarness(): Promise<string> {
  const result = await build({
    configFile: false,
    root: RENDERER,
    logLevel: 'silent',
    mode: 'development',
    define: { 'process.env.NODE_ENV': JSON.stringify('development') },
    plugins: [svelte({ configFile: false, emitCss: false })],
    build: {
      write: false,
      minify: false,
      copyPublicDir: false,
      lib: { entry: path.join(RENDERER, 'src/testing/harness.ts'), formats: ['iife'], name: 'splitStudioHarness', fileName: () => 'harness.js' },
    },
  });
  const outputs = (Array.isArray(result) ? result : [result]) as Rolldown.RolldownOutput[];
  const chunk = outputs.flatMap((o) => o.output).find((o): o is Rolldown.OutputChunk => o.type === 'chunk');
  if (!chunk) throw new Error('the harness build produced no script');
  return chunk.code;
}

export interface HarnessPage {
  page: Page;
  /** Uncaught errors in the page so far (a test should end with none). */
  errors: Error[];
  close(): Promise<void>;
}

export async function openHarness(): Promise<HarnessPage> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
  const [code, browser] = await Promise.all([
    bundleHarness(),
    chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    }),
  ]);
  try {
    const page = await browser.newPage({ viewport: { width: 800, height: 800 } });
    const errors: Error[] = [];
    page.on('pageerror', (error) => errors.push(error));
    await page.setContent('<!doctype html><html><head><meta charset="utf-8"><title>component test</title></head><body><div id="root"></div></body></html>');
    await page.addStyleTag({ path: path.join(RENDERER, 'src/app.css') });
    await page.addScriptTag({ content: code });
    return { page, errors, close: () => browser.close() };
  } catch (error) {
    await browser.close();
    throw error;
  }
}
