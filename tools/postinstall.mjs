// Runs after `npm install` / `npm ci` in this folder, so that one command leaves a working
// studio and command line (`npx split-studio ...` reads the build in out/):
//
// 1. Checks the Node version against package.json's `engines` (the one place it is stated).
// 2. Builds (electron-vite build, a few seconds) when the dev dependencies are installed.
//    A failed build fails the install, with the build's own output and what to do.
// 3. Tries Electron's binary download and tolerates failure. Electron's own postinstall is
//    disabled in package.json (allowScripts) because it downloads from outside the npm
//    registry and fails on offline machines; online, `npm start` then opens the desktop app,
//    offline it serves the studio to a browser instead.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const say = (line) => console.log(`split-studio: ${line}`);
const fail = (lines) => {
  for (const line of lines) console.error(`split-studio: ${line}`);
  process.exit(1);
};

function checkNode() {
  const wanted = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).engines?.node ?? '';
  const min = wanted.match(/^>=\s*(\d+)\.(\d+)(?:\.(\d+))?$/);
  if (!min) return;
  const have = process.versions.node.split('.').map(Number);
  const need = [Number(min[1]), Number(min[2]), Number(min[3] ?? 0)];
  const older = have[0] !== need[0] ? have[0] < need[0] : have[1] !== need[1] ? have[1] < need[1] : have[2] < need[2];
  if (older) fail([`needs Node ${wanted} (package.json "engines"); this is Node ${process.versions.node}`]);
}

function build() {
  let cli;
  try {
    const pkg = require.resolve('electron-vite/package.json');
    cli = path.join(path.dirname(pkg), require(pkg).bin['electron-vite']);
  } catch {
    return 'not built: the dev dependencies are not installed (`npm install` without --omit=dev builds)';
  }
  const started = Date.now();
  const result = spawnSync(process.execPath, [cli, 'build'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
  if (result.status === 0 && existsSync(path.join(root, 'out/main/cli.js'))) {
    return `built out/ in ${((Date.now() - started) / 1000).toFixed(1)} s: \`npx split-studio\` and \`npm start\` are ready`;
  }
  // The build's last lines without the bundler's stack frames: the error and where it is.
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').filter((line) => !/^\s+at /.test(line)).slice(-40).join('\n');
  if (output) console.error(output);
  fail([
    `the build failed (electron-vite build${result.error ? `: ${result.error.message}` : `, exit code ${result.status}`}; its output is above).`,
    'The command line (`npx split-studio`) and the studio run from that build: fix the error, then `npm run build`.',
  ]);
}

function tryElectronDownload() {
  if (process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) return 'Electron download skipped (ELECTRON_SKIP_BINARY_DOWNLOAD is set)';
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

checkNode();
say(build());
say(tryElectronDownload());
