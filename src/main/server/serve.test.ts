import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { decodeFrame, encodeFrame } from '../../shared/frames';
import type { StudioService } from '../studio/service';
import { StudioCallError } from '../studio/service';
import { CLOSE_UNAUTHORIZED, type ServedStudio, serveStudio } from './serve';

let studio: ServedStudio;
const received: unknown[] = [];
const service = {
  async handle(op: string, input: unknown) {
    received.push({ op, input });
    if (op === 'getImage') return new Uint8Array([1, 2, 3]);
    if (op === 'cancel') throw new StudioCallError('invalid', 'cancel: jobId: expected string');
    return { items: [], total: 0 };
  },
} as StudioService;

beforeAll(async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'split-render-'));
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>Split Studio</title>');
  writeFileSync(path.join(os.tmpdir(), 'secret.txt'), 'outside');
  studio = await serveStudio({ renderDir: dir, service: () => service });
});
afterAll(() => studio.close());

function get(pathname: string, host = `127.0.0.1:${studio.port}`): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: studio.port, path: pathname, headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    }).on('error', reject);
  });
}

function connect(query: string, origin = `http://127.0.0.1:${studio.port}`): Promise<{ ws: WebSocket; closed: Promise<number>; opened: Promise<void> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${studio.port}/ws${query}`, { origin });
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  const opened = new Promise<void>((resolve, reject) => {
    ws.on('open', () => resolve());
    ws.on('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.on('error', reject);
  });
  return Promise.resolve({ ws, closed, opened });
}

function call(ws: WebSocket, id: number, op: string, input: unknown): Promise<{ ok: boolean; value?: unknown; error?: { kind: string } }> {
  return new Promise((resolve) => {
    ws.on('message', (data) => {
      const message = decodeFrame(new Uint8Array(data as Buffer)) as { type: string; id: number };
      if (message.type === 'result' && message.id === id) resolve(message as never);
    });
    ws.send(encodeFrame({ type: 'call', id, op, input }));
  });
}

describe('the static shell', () => {
  test('is served to this origin', async () => {
    expect(await get('/')).toBe(200);
  });
  test('is refused to other Host names (DNS rebinding)', async () => {
    expect(await get('/', 'evil.example:80')).toBe(403);
  });
  test('never leaves the renderer folder', async () => {
    expect(await get('/../secret.txt')).toBe(404);
    expect(await get('/%2e%2e/secret.txt')).toBe(404);
  });
});

describe('the WebSocket refuses requests without this launch\'s token', () => {
  test.each([
    ['no token', ''],
    ['empty token', '?token='],
    ['a wrong token', '?token=wrong'],
  ])('%s', async (_name, query) => {
    received.length = 0;
    const { ws, closed } = await connect(query);
    ws.on('open', () => ws.send(encodeFrame({ type: 'call', id: 1, op: 'listGallery', input: {} })));
    expect(await closed).toBe(CLOSE_UNAUTHORIZED);
    expect(received).toEqual([]);
  });

  test('a page of another origin cannot connect even with the token', async () => {
    const { opened } = await connect(`?token=${studio.token}`, 'http://evil.example');
    await expect(opened).rejects.toThrow(/403/);
  });

  test('with the token, calls go through and bytes come back as bytes', async () => {
    const { ws, opened } = await connect(`?token=${studio.token}`);
    await opened;
    expect(await call(ws, 1, 'listGallery', { search: 'a' })).toMatchObject({ ok: true, value: { items: [], total: 0 } });
    const image = await call(ws, 2, 'getImage', { id: 1 });
    expect(image.value).toBeInstanceOf(Uint8Array);
    expect(Array.from(image.value as Uint8Array)).toEqual([1, 2, 3]);
    expect(await call(ws, 3, 'cancel', { jobId: 1 })).toMatchObject({ ok: false, error: { kind: 'invalid' } });
    ws.close();
  });

  test('malformed frames close the socket', async () => {
    const { ws, opened, closed } = await connect(`?token=${studio.token}`);
    await opened;
    ws.send('{"type":"call"}');
    expect(await closed).toBe(1003);
  });

  test('events reach connected clients', async () => {
    const { ws, opened } = await connect(`?token=${studio.token}`);
    await opened;
    const event = new Promise((resolve) => ws.on('message', (d) => resolve(decodeFrame(new Uint8Array(d as Buffer)))));
    studio.broadcast('failed', { jobId: 'job-9', kind: 'cancelled', message: 'cancelled' });
    expect(await event).toEqual({ type: 'event', event: 'failed', payload: { jobId: 'job-9', kind: 'cancelled', message: 'cancelled' } });
    ws.close();
  });
});
