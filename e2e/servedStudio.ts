/**
 * The served studio and Debian's Chromium for the browser tests: a served studio on a free
 * port with its own temporary data folder (the real engine process and the shipped models),
 * and a page on it. Needs the build (npm test builds first) and /usr/bin/chromium (.ci/run
 * installs it).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Browser, type Page, chromium } from 'playwright-core';

export const root = path.resolve(__dirname, '..');
const CHROMIUM = '/usr/bin/chromium';

export interface ServedStudio {
  url: string;
  browser: Browser;
  page: Page;
  close(): Promise<void>;
}

function startServer(): Promise<{ url: string; server: ChildProcess }> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'split-e2e-'));
  const server = spawn(process.execPath, ['-e', "import('./out/main/serve.js').then((m) => m.serveFromCommandLine(['--port', '0']))"], {
    cwd: root,
    env: { ...process.env, SPLIT_STUDIO_HOME: home },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    server.stdout!.on('data', (d) => {
      out += d;
      const match = out.match(/Open (http:\/\/127\.0\.0\.1:\d+\/#token=\S+)/);
      if (match) resolve({ url: match[1], server });
    });
    server.on('exit', (code) => reject(new Error(`served studio exited (${code}): ${out}`)));
  });
}

/** Starts the served studio and opens it in Chromium at `viewport`. */
export async function openServedStudio(viewport = { width: 1280, height: 800 }): Promise<ServedStudio> {
  if (!existsSync(path.join(root, 'out/main/serve.js'))) throw new Error('build first: npm run build');
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
  const { url, server } = await startServer();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport });
  await page.goto(url);
  return {
    url,
    browser,
    page,
    close: async () => {
      await browser.close();
      server.kill();
    },
  };
}
