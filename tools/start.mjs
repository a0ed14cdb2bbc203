// `npm start`: the Electron studio where the Electron binary is installed; otherwise (an
// offline machine, a headless box, or `npm start -- --serve`) the same studio served to a
// browser on 127.0.0.1.
//
// better-sqlite3 is a native addon: `npm install` builds it for Node (tests, CLI, served
// mode). Electron needs a build for its own ABI, so before launching Electron this script
// makes one in out/electron-native/<electron version>/ (prebuilt download, else a source
// build against Electron's headers) and points the app at it with SPLIT_STUDIO_SQLITE_BINDING,
// leaving Node's build in node_modules untouched.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);

function electronBinary() {
  try {
    const binary = require('electron'); // the package exports the binary's path in plain Node
    return typeof binary === 'string' && existsSync(binary) ? binary : null;
  } catch {
    return null;
  }
}

function electronSqliteBinding() {
  const version = JSON.parse(readFileSync(path.join(root, 'node_modules/electron/package.json'), 'utf8')).version;
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

const build = spawn(process.execPath, [path.join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], { cwd: root, stdio: 'inherit' });
build.on('exit', async (code) => {
  if (code !== 0) process.exit(code ?? 1);
  const binary = args.includes('--serve') ? null : electronBinary();
  if (binary) {
    let binding;
    try {
      binding = electronSqliteBinding();
    } catch (error) {
      console.error(`split-studio: ${error.message}`);
      process.exit(1);
    }
    spawn(binary, [root], { stdio: 'inherit', env: { ...process.env, SPLIT_STUDIO_SQLITE_BINDING: binding } }).on('exit', (c) => process.exit(c ?? 0));
  } else {
    const { serveFromCommandLine } = await import(pathToFileURL(path.join(root, 'out/main/serve.js')).href);
    await serveFromCommandLine(args);
  }
});
