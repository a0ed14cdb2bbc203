// `npm start`: the Electron studio where the Electron binary is installed; otherwise (an
// offline machine, a headless box, or `npm start -- --serve`) the same renderer served on
// 127.0.0.1 for a browser.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const args = process.argv.slice(2);

function electronBinary() {
  try {
    const binary = require('electron'); // the package exports the binary's path in plain Node
    return typeof binary === 'string' && existsSync(binary) ? binary : null;
  } catch {
    return null;
  }
}

const build = spawn(process.execPath, [new URL('../node_modules/electron-vite/bin/electron-vite.js', import.meta.url).pathname, 'build'], { stdio: 'inherit' });
build.on('exit', (code) => {
  if (code !== 0) process.exit(code ?? 1);
  const binary = args.includes('--serve') ? null : electronBinary();
  if (binary) {
    spawn(binary, ['.'], { stdio: 'inherit' }).on('exit', (c) => process.exit(c ?? 0));
  } else {
    import('../out/main/serve.js').then((m) => m.serveFromCommandLine(args));
  }
});
