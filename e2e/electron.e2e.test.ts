/**
 * Electron smoke test: the desktop app itself (out/main/index.js with the sandboxed window and
 * its CommonJS preload), driven by playwright-core's `_electron`: the window exposes the
 * studio API through the preload, generates with the embedded default model and the gallery
 * grows. Needs the build (npm test builds first), the Electron binary (an online `npm install`
 * downloads it) and, on Linux, a display (`xvfb-run -a npm test`). Where there is no binary it
 * is skipped and says why; src/preload/sandbox.test.ts checks the preload without one.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type ElectronApplication, type Page, _electron } from 'playwright-core';
import { afterAll, describe, expect, test } from 'vitest';
import { OPERATIONS } from '../src/shared/contract';
import type { PageGlobals } from './pageGlobals';

const root = path.resolve(__dirname, '..');

interface ElectronTools {
  electronBinary(): string | null;
  electronSqliteBinding(root?: string): string;
}
const tools = (await import(pathToFileURL(path.join(root, 'tools/electron.mjs')).href)) as ElectronTools;

const electronBinary = tools.electronBinary();
const noDisplay = process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY;
const skipReason = !electronBinary
  ? 'no Electron binary is installed (offline install: ELECTRON_SKIP_BINARY_DOWNLOAD or the download failed)'
  : noDisplay
    ? 'no display (run it under `xvfb-run -a`)'
    : null;
if (skipReason) console.log(`electron smoke test skipped: ${skipReason}`);

let app: ElectronApplication | undefined;

afterAll(async () => {
  await app?.close();
});

describe.skipIf(skipReason !== null)('the Electron studio', () => {
  test('the sandboxed window reaches its engine: generates with the default model and the gallery grows', async () => {
    if (!existsSync(path.join(root, 'out/main/index.js')) || !existsSync(path.join(root, 'out/preload/index.cjs'))) {
      throw new Error('build first: npm run build');
    }
    const binding = tools.electronSqliteBinding(root);
    const home = mkdtempSync(path.join(os.tmpdir(), 'split-electron-e2e-'));
    app = await _electron.launch({
      executablePath: electronBinary!,
      args: [root],
      cwd: root,
      env: { ...(process.env as Record<string, string>), SPLIT_STUDIO_HOME: home, SPLIT_STUDIO_SQLITE_BINDING: binding },
      timeout: 60_000,
    });
    const page: Page = await app.firstWindow();

    // The preload ran in the sandbox and exposed one function per operation (no served fallback).
    const exposed = await page.evaluate(() => Object.keys((globalThis as unknown as PageGlobals).splitStudio ?? {}));
    expect(exposed.sort()).toEqual([...OPERATIONS, 'on'].sort());

    await page.getByTestId('model-select').locator('option').first().waitFor({ state: 'attached', timeout: 30_000 });
    const galleryCount = () => page.getByTestId('gallery-item').count();
    const before = await galleryCount();
    await page.getByTestId('prompt').fill('red apple on a blue background');
    await page.getByTestId('generate').click();
    await expect.poll(() => page.getByTestId('result-image').count(), { timeout: 90_000 }).toBeGreaterThan(0);
    await expect.poll(galleryCount, { timeout: 10_000 }).toBe(before + 1);
    expect(await page.getByTestId('run-error').count()).toBe(0);
  }, 300_000);
});
