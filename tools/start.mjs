// `npm start`: the Electron studio where the Electron binary is installed; otherwise (an
// offline machine, a headless box, or `npm start -- --serve`) the same studio served to a
// browser on 127.0.0.1.
//
// Before launching Electron it makes better-sqlite3 for Electron's ABI (tools/electron.mjs)
// and points the app at it with SPLIT_STUDIO_SQLITE_BINDING.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { electronBinary, electronSqliteBinding } from './electron.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);

const build = spawn(process.execPath, [path.join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], { cwd: root, stdio: 'inherit' });
build.on('exit', async (code) => {
  if (code !== 0) process.exit(code ?? 1);
  const binary = args.includes('--serve') ? null : electronBinary();
  if (binary) {
    let binding;
    try {
      binding = electronSqliteBinding(root);
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
