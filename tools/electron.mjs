// What running the desktop app needs besides the build, shared by `npm start` (tools/start.mjs)
// and the Electron smoke test (e2e/electron.e2e.test.ts).
//
// better-sqlite3 is a native addon: `npm install` builds it for Node (tests, CLI, served
// mode). Electron needs a build for its own ABI, so electronSqliteBinding() makes one in
// out/electron-native/<electron version>/ (prebuilt download, else a source build against
// Electron's headers) for the app to load through SPLIT_STUDIO_SQLITE_BINDING, leaving Node's
// build in node_modules untouched. The version is the installed electron package's.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const defaultRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The Electron binary's path, or null where it was not downloaded (offline installs). */
export function electronBinary() {
  try {
    const binary = require('electron'); // the package exports the binary's path in plain Node
    return typeof binary === 'string' && existsSync(binary) ? binary : null;
  } catch {
    return null;
  }
}

/** The installed electron package's version (node_modules/electron/package.json). */
export function electronVersion(root = defaultRoot) {
  return JSON.parse(readFileSync(path.join(root, 'node_modules/electron/package.json'), 'utf8')).version;
}

/** better-sqlite3 built for the installed Electron's ABI (built once, then reused); throws when it cannot be made. */
export function electronSqliteBinding(root = defaultRoot) {
  const version = electronVersion(root);
  const target = path.join(root, 'out/electron-native', version, 'better_sqlite3.node');
  if (existsSync(target)) return target;
  console.log(`split-studio: building better-sqlite3 for Electron ${version} (once)…`);
  const work = mkdtempSync(path.join(os.tmpdir(), 'split-sqlite-'));
  const pkg = path.join(work, 'better-sqlite3');
  cpSync(path.join(root, 'node_modules/better-sqlite3'), pkg, { recursive: true, filter: (p) => !p.includes(`${path.sep}build${path.sep}`) });
  const electronArgs = ['--runtime=electron', `--target=${version}`, `--arch=${process.arch}`];
  const prebuilt = spawnSync(process.execPath, [path.join(root, 'node_modules/prebuild-install/bin.js'), ...electronArgs], { cwd: pkg, stdio: 'inherit' });
  if (prebuilt.status !== 0) {
    const gyp = spawnSync('npx', ['--yes', 'node-gyp', 'rebuild', ...electronArgs, '--dist-url=https://electronjs.org/headers'], { cwd: pkg, stdio: 'inherit', shell: process.platform === 'win32' });
    if (gyp.status !== 0) throw new Error('could not build better-sqlite3 for Electron; `npm start -- --serve` runs the studio in a browser instead');
  }
  mkdirSync(path.dirname(target), { recursive: true });
  cpSync(path.join(pkg, 'build/Release/better_sqlite3.node'), target);
  rmSync(work, { recursive: true, force: true });
  return target;
}
