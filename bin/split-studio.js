#!/usr/bin/env node
// The split-studio command. The TypeScript sources are built into out/ by `npm install`
// (tools/postinstall.mjs) or `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = fileURLToPath(new URL('../out/main/cli.js', import.meta.url));
if (!existsSync(built)) {
  process.stderr.write('split-studio: not built yet; run `npm install` (or `npm run build`) in the project folder\n');
  process.exit(2);
}
await import(built);
