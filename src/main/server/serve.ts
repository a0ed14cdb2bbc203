/**
 * Served mode: the studio's renderer on 127.0.0.1 for a browser (no Electron binary, a
 * headless box, or `npm start -- --serve`). The static shell is public code; every
 * operation travels over a WebSocket that must present this launch's random token
 * (`/ws?token=...`), from a page of this origin. Messages are binary frames (frames.ts).
 *
 * Any local process can reach the port, token or not, so nothing a peer sends may end the
 * process: every socket has an 'error' listener from the moment it exists (ws emits
 * 'error' for protocol violations and oversized frames, and an unheard 'error' event is an
 * uncaught exception), frames are capped at the protocol's size before they are buffered,
 * and the decoder bounds what it allocates.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import type { EventName, StudioEvents } from '../../shared/contract';
import { FrameError, MAX_CALL_FRAME_BYTES, decodeFrame, encodeFrame } from '../../shared/frames';
import { type StudioService, toCallError } from '../studio/service';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

/** Close code for a refused token (4000-4999 are the application's). */
export const CLOSE_UNAUTHORIZED = 4401;
/**
 * A client that stops reading while results pile up is dropped once this much is queued
 * for it, rather than holding the studio's memory hostage.
 */
const MAX_BUFFERED_BYTES = 256 * 1024 * 1024;

export interface ServedStudio {
  url: string;
  port: number;
  token: string;
  broadcast<E extends EventName>(event: E, payload: StudioEvents[E]): void;
  close(): Promise<void>;
}

export interface ServeOptions {
  renderDir: string;
  /** Resolved later so the service can be built with this server's broadcast. */
  service: () => StudioService;
  port?: number;
  token?: string;
}

/**
 * A close reason ws accepts: at most 123 bytes of UTF-8 (RFC 6455 §5.5), or ws.close throws.
 * Cut by code points, so a multi-byte character quoted from the peer's bytes is never split.
 */
export function closeReason(text: string): string {
  let out = '';
  let bytes = 0;
  for (const ch of text) {
    const size = Buffer.byteLength(ch);
    if (bytes + size > 123) break;
    out += ch;
    bytes += size;
  }
  return out;
}

function sameToken(given: string | null, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function serveStudio(options: ServeOptions): Promise<ServedStudio> {
  const root = path.resolve(options.renderDir);
  if (!existsSync(path.join(root, 'index.html'))) throw new Error(`the renderer is not built (${root}); run \`npm run build\``);
  const token = options.token ?? randomBytes(24).toString('base64url');
  const clients = new Set<WebSocket>();
  let port = options.port ?? 0;

  // DNS rebinding: only answer requests addressed to this loopback server by name.
  const hostAllowed = (host: string | undefined) => host === `127.0.0.1:${port}` || host === `localhost:${port}`;

  const server = http.createServer((req, res) => {
    if (!hostAllowed(req.headers.host)) {
      res.writeHead(403, { 'content-type': 'text/plain' }).end('forbidden host');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let relative: string;
    try {
      relative = decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    const file = path.normalize(path.join(root, relative));
    if (!file.startsWith(root + path.sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
    });
    res.end(req.method === 'HEAD' ? undefined : readFileSync(file));
  });

  // ws refuses a bigger frame with close code 1009 (and an 'error' event, heard below).
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CALL_FRAME_BYTES });
  server.on('upgrade', (req, socket, head) => {
    // Node's HTTP server stops listening for this socket's errors once it is an upgrade;
    // a peer that resets now must not be an uncaught exception.
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const origin = req.headers.origin;
    const originAllowed = origin === `http://127.0.0.1:${port}` || origin === `http://localhost:${port}`;
    if (url.pathname !== '/ws' || !hostAllowed(req.headers.host) || !originAllowed) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      // Before the token check: a refused peer can still send bytes that break the protocol.
      // ws closes the socket itself (1002, 1007 or 1009); there is nothing else to do.
      ws.on('error', () => ws.terminate());
      if (!sameToken(url.searchParams.get('token'), token)) {
        ws.close(CLOSE_UNAUTHORIZED, 'token refused');
        return;
      }
      clients.add(ws);
      ws.on('close', () => clients.delete(ws));
      ws.on('message', (data, isBinary) => void onMessage(ws, data as Buffer, isBinary));
    });
  });

  async function onMessage(ws: WebSocket, data: Buffer, isBinary: boolean): Promise<void> {
    let message: { type?: unknown; id?: unknown; op?: unknown; input?: unknown };
    try {
      if (!isBinary) throw new Error('text frames are not accepted');
      message = decodeFrame(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), { maxBytes: MAX_CALL_FRAME_BYTES }) as typeof message;
    } catch (error) {
      // A FrameError's message is about the peer's bytes; anything else is this server's bug.
      const why = error instanceof FrameError || !isBinary ? (error as Error).message : 'the frame could not be decoded';
      ws.close(1003, closeReason(`bad frame: ${why}`));
      return;
    }
    if (message?.type !== 'call' || typeof message.id !== 'number' || typeof message.op !== 'string') {
      ws.close(1003, 'expected {type: "call", id, op, input}');
      return;
    }
    const id = message.id;
    let reply: Uint8Array;
    try {
      const value = await options.service().handle(message.op, message.input);
      reply = encodeFrame({ type: 'result', id, ok: true, value });
    } catch (error) {
      reply = encodeFrame({ type: 'result', id, ok: false, error: toCallError(error) });
    }
    send(ws, reply);
  }

  /** Sends to an open socket; drops a client that has stopped reading (see MAX_BUFFERED_BYTES). */
  function send(ws: WebSocket, frame: Uint8Array): void {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount + frame.length > MAX_BUFFERED_BYTES) {
      ws.terminate();
      return;
    }
    ws.send(frame);
  }

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      port = typeof address === 'object' && address ? address.port : port;
      resolve({
        url: `http://127.0.0.1:${port}/#token=${token}`,
        port,
        token,
        broadcast(event, payload) {
          const frame = encodeFrame({ type: 'event', event, payload });
          for (const ws of clients) send(ws, frame);
        },
        close: () =>
          new Promise<void>((done) => {
            for (const ws of clients) ws.terminate();
            wss.close();
            server.close(() => done());
          }),
      });
    });
  });
}
