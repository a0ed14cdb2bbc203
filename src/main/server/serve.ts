/**
 * Served mode: the studio's renderer on 127.0.0.1 for a browser, where no Electron binary
 * is installed. Each launch has a random token, carried by the URL; the studio's operations
 * (arriving with the interface work) will travel over a WebSocket that checks it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { appRoot } from '../models/catalog';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};

export interface ServedStudio {
  url: string;
  token: string;
  close(): Promise<void>;
}

export function serveStudio(port = 0): Promise<ServedStudio> {
  const root = path.join(appRoot(), 'out', 'renderer');
  if (!existsSync(path.join(root, 'index.html'))) throw new Error('the renderer is not built; run `npm run build`');
  const token = randomBytes(24).toString('base64url');
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const relative = decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname);
    const file = path.normalize(path.join(root, relative));
    if (!file.startsWith(root + path.sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    res.end(readFileSync(file));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const actual = typeof address === 'object' && address ? address.port : port;
      resolve({
        url: `http://127.0.0.1:${actual}/#token=${token}`,
        token,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}

export async function serveFromCommandLine(args: string[]): Promise<void> {
  const portIndex = args.indexOf('--port');
  const port = portIndex >= 0 ? Number(args[portIndex + 1]) : 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`split-studio: --port must be a whole number from 0 to 65535\n`);
    process.exit(2);
  }
  const studio = await serveStudio(port);
  process.stdout.write(`Open ${studio.url}\n`);
}
