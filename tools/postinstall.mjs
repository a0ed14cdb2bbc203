// Runs after `npm install`. Electron's own postinstall is disabled in package.json
// (allowScripts) because it downloads a binary from outside the npm registry and fails
// on offline machines. Here we try that download ourselves and tolerate failure, so the
// same `npm install` works offline (plain-Node CLI, tests and served studio) and, online,
// still fetches the Electron binary that `npm start` prefers.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

function tryElectronDownload() {
  if (process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) return 'skipped (ELECTRON_SKIP_BINARY_DOWNLOAD is set)';
  let installScript;
  try {
    installScript = path.join(path.dirname(require.resolve('electron/package.json')), 'install.js');
  } catch {
    return 'electron is not installed (production install)';
  }
  if (!existsSync(installScript)) return 'electron has no install script';
  const result = spawnSync(process.execPath, [installScript], {
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 120_000,
    encoding: 'utf8',
  });
  if (result.status === 0) return 'Electron binary ready';
  const reason = (result.stderr || '').split('\n').find((line) => line.trim()) ?? 'timed out';
  return `Electron binary not downloaded (${reason.trim().slice(0, 160)}); ` +
    '`npm start` will serve the studio in your browser instead';
}

console.log(`split-studio: ${tryElectronDownload()}`);
