/**
 * Served mode under hostile input: protocol-breaking bytes from a process without the token,
 * oversized and pathological frames from one with it. After each, the server must still
 * answer a good client. (An 'error' event without a listener would be an uncaught exception:
 * vitest fails the run on it, and in `--serve` it ends the process.)
 */
import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { MAX_CALL_FRAME_BYTES, decodeFrame, encodeFrame } from '../../shared/frames';
import type { StudioService } from '../studio/service';
import { CLOSE_UNAUTHORIZED, type ServedStudio, closeReason, serveStudio } from './serve';

const SEED = Number(process.env.FC_SEED ?? 20261130);
let studio: ServedStudio;
const calls: string[] = [];
const service = {
  async handle(op: string) {
    calls.push(op);
    return { items: [], total: 0 };
  },
} as StudioService;

const uncaught: unknown[] = [];
const onUncaught = (error: unknown) => void uncaught.push(error);

beforeAll(async () => {
  process.on('uncaughtException', onUncaught);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'split-render-'));
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>Split Studio</title>');
  studio = await serveStudio({ renderDir: dir, service: () => service });
});
afterAll(async () => {
  process.off('uncaughtException', onUncaught);
  await studio.close();
});

const origin = () => `http://127.0.0.1:${studio.port}`;

/** A good client: connects with the token and gets an answer to listGallery. */
async function goodClientAnswers(): Promise<void> {
  const ws = new WebSocket(`ws://127.0.0.1:${studio.port}/ws?token=${studio.token}`, { origin: origin() });
  try {
    const answer = await new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer within 5 s')), 5000);
      ws.on('error', reject);
      ws.on('open', () => ws.send(encodeFrame({ type: 'call', id: 1, op: 'listGallery', input: {} })));
      ws.on('message', (data) => {
        clearTimeout(timer);
        resolve(decodeFrame(new Uint8Array(data as Buffer)));
      });
    });
    expect(answer).toMatchObject({ type: 'result', id: 1, ok: true });
  } finally {
    ws.terminate();
  }
  expect(uncaught).toEqual([]);
}

/**
 * Opens a raw TCP connection, completes the WebSocket handshake by hand, sends `bytes` as
 * they are (no framing, no masking), and waits until the server closes the connection (or
 * `waitMs`). Answers the handshake's status line.
 */
function rawSession(token: string | null, bytes: Uint8Array, waitMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(studio.port, '127.0.0.1');
    let response = '';
    let sent = false;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(response.split('\r\n')[0]);
    };
    const timer = setTimeout(finish, waitMs);
    socket.on('error', () => finish()); // a reset from the server is an answer too
    socket.on('close', finish);
    socket.on('data', (chunk) => {
      if (sent) return;
      response += chunk.toString('latin1');
      if (response.includes('\r\n\r\n')) {
        sent = true;
        if (bytes.length) socket.write(bytes);
      }
    });
    socket.on('connect', () => {
      const query = token === null ? '' : `?token=${token}`;
      socket.write(
        `GET /ws${query} HTTP/1.1\r\nHost: 127.0.0.1:${studio.port}\r\nOrigin: ${origin()}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      );
    });
    socket.on('timeout', () => reject(new Error('timeout')));
  });
}

const MASK = [1, 2, 3, 4];
/** Bytes that break RFC 6455 in ways ws detects (each makes its receiver emit 'error'). */
const protocolBreakers: [string, number[]][] = [
  ['RSV1 set without an extension', [0xc2, 0x80, ...MASK]],
  ['an unmasked client frame', [0x82, 0x00]],
  ['a reserved opcode', [0x83, 0x80, ...MASK]],
  ['a fragmented ping', [0x09, 0x80, ...MASK]],
  ['a 2^40-byte length', [0x82, 0xff, 0, 0, 1, 0, 0, 0, 0, 0, ...MASK]],
  ['a close frame with code 999', [0x88, 0x82, ...MASK, 0x03 ^ 1, 0xe7 ^ 2]],
  ['invalid UTF-8 in a text frame', [0x81, 0x82, ...MASK, 0xff ^ 1, 0xfe ^ 2]],
];

describe('protocol-breaking bytes never take the server down', () => {
  test.each(protocolBreakers)('%s, from a client without the token', async (_name, bytes) => {
    expect(await rawSession(null, Uint8Array.from(bytes))).toBe('HTTP/1.1 101 Switching Protocols');
    await goodClientAnswers();
  });

  test.each(protocolBreakers)('%s, from a client with the token', async (_name, bytes) => {
    expect(await rawSession(studio.token, Uint8Array.from(bytes))).toBe('HTTP/1.1 101 Switching Protocols');
    await goodClientAnswers();
  });

  test(`property: random bytes after the handshake, with or without the token (seed ${SEED}, 40 runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.uint8Array({ minLength: 1, maxLength: 256 }), async (withToken, bytes) => {
        await rawSession(withToken ? studio.token : null, bytes, 300);
        await goodClientAnswers();
      }),
      { seed: SEED, numRuns: 40, interruptAfterTimeLimit: 60_000 },
    );
  }, 120_000);

  test('garbage instead of a handshake is answered 400, the server lives on', async () => {
    const status = await new Promise<string>((resolve) => {
      const socket = net.connect(studio.port, '127.0.0.1', () => socket.end(Buffer.from([0, 1, 2, 255, 13, 10, 13, 10])));
      let response = '';
      socket.on('data', (c) => (response += c.toString('latin1')));
      socket.on('error', () => resolve(response));
      socket.on('close', () => resolve(response.split('\r\n')[0]));
    });
    expect(status).toMatch(/^(HTTP\/1\.1 400|)/);
    await goodClientAnswers();
  });
});

/** Connects with the token; answers the close code and reason. */
async function sendAuthenticated(frame: Uint8Array): Promise<{ code: number; reason: string; ms: number }> {
  const ws = new WebSocket(`ws://127.0.0.1:${studio.port}/ws?token=${studio.token}`, { origin: origin() });
  ws.on('error', () => {});
  await new Promise((resolve) => ws.on('open', resolve));
  const started = performance.now();
  const closed = new Promise<{ code: number; reason: string; ms: number }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString(), ms: performance.now() - started })),
  );
  ws.send(frame);
  return closed;
}

describe('frames from a client with the token', () => {
  test('one byte over the protocol\'s limit is refused with 1009, the server lives on', async () => {
    const closed = await sendAuthenticated(new Uint8Array(MAX_CALL_FRAME_BYTES + 1));
    expect(closed.code).toBe(1009);
    await goodClientAnswers();
  });

  test('a frame of two million empty blobs is refused for its blob count, at once', async () => {
    const frame = new Uint8Array(4 + 2 + 4 * 2_000_000);
    new DataView(frame.buffer).setUint32(0, 2, true);
    frame.set([0x7b, 0x7d], 4);
    const closed = await sendAuthenticated(frame);
    expect(closed.code).toBe(1003);
    expect(closed.reason).toMatch(/more than 64 blobs/);
    await goodClientAnswers();
  });

  test('a refused token still closes with 4401 and reaches no operation', async () => {
    calls.length = 0;
    expect(await rawSession('wrong', new Uint8Array(0), 500)).toBe('HTTP/1.1 101 Switching Protocols');
    const ws = new WebSocket(`ws://127.0.0.1:${studio.port}/ws?token=wrong`, { origin: origin() });
    ws.on('error', () => {});
    ws.on('open', () => ws.send(encodeFrame({ type: 'call', id: 1, op: 'listGallery', input: {} })));
    expect(await new Promise((resolve) => ws.on('close', resolve))).toBe(CLOSE_UNAUTHORIZED);
    expect(calls).toEqual([]);
  });
});

describe('the close reason of a refused frame', () => {
  /** A frame whose header is `header` as it is (no JSON check). */
  const rawHeader = (header: string) => {
    const h = new TextEncoder().encode(header);
    const frame = new Uint8Array(4 + h.length);
    new DataView(frame.buffer).setUint32(0, h.length, true);
    frame.set(h, 4);
    return frame;
  };

  test('stays within 123 bytes when the parser quotes multi-byte text', async () => {
    const closed = await sendAuthenticated(rawHeader(`x${'€'.repeat(200)}`));
    expect(closed.code).toBe(1003);
    expect(Buffer.byteLength(closed.reason)).toBeLessThanOrEqual(123);
    expect(closed.reason).toMatch(/^bad frame: frame header is not JSON/);
    await goodClientAnswers();
  });

  test(`property: closeReason keeps whole characters and at most 123 bytes (seed ${SEED})`, () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (text) => {
        const reason = closeReason(text);
        expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(123);
        expect(text.startsWith(reason)).toBe(true);
        expect(reason).not.toMatch(/[\uD800-\uDBFF]$/);
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  test(`property: any header text from a client with the token is answered or refused, and the server lives on (seed ${SEED}, 30 runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 200 }), async (header) => {
        const ws = new WebSocket(`ws://127.0.0.1:${studio.port}/ws?token=${studio.token}`, { origin: origin() });
        ws.on('error', () => {});
        await new Promise((resolve) => ws.on('open', resolve));
        ws.send(rawHeader(header));
        await new Promise((resolve) => {
          ws.on('close', resolve);
          ws.on('message', resolve);
          setTimeout(resolve, 2000);
        });
        ws.terminate();
        await goodClientAnswers();
      }),
      { seed: SEED, numRuns: 30, interruptAfterTimeLimit: 60_000 },
    );
  }, 120_000);
});
