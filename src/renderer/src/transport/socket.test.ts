import { describe, expect, it } from 'vitest';
import { callErrorText } from '../../../shared/callErrorText';
import { decodeFrame, encodeFrame } from '../../../shared/frames';
import { DisconnectedError, StudioCallError, toCallError } from './errors';
import { type SocketLike, createSocketApi } from './socket';
import { socketUrl, takeToken } from './token';

class FakeSocket implements SocketLike {
  binaryType = 'blob';
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  onopen: SocketLike['onopen'] = null;
  onclose: SocketLike['onclose'] = null;
  onmessage: SocketLike['onmessage'] = null;
  onerror: SocketLike['onerror'] = null;
  constructor(readonly url: string) {}
  send(data: Uint8Array) {
    this.sent.push(decodeFrame(data) as Record<string, unknown>);
  }
  close() {}
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  receive(message: unknown) {
    const frame = encodeFrame(message);
    this.onmessage?.({ data: frame.buffer.slice(frame.byteOffset, frame.byteOffset + frame.byteLength) });
  }
  drop(code: number, reason = '') {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
}

function setup() {
  const sockets: FakeSocket[] = [];
  const api = createSocketApi('ws://127.0.0.1:1/ws?token=t', (url) => {
    const s = new FakeSocket(url);
    sockets.push(s);
    return s;
  });
  return { api, sockets, socket: () => sockets.at(-1)! };
}

describe('socket transport', () => {
  it('queues calls until open, then matches results by id, with binary values', async () => {
    const { api, socket } = setup();
    expect(socket().binaryType).toBe('arraybuffer');
    const image = api.getImage({ id: 3, thumbnail: true });
    const models = api.listModels({});
    expect(socket().sent).toEqual([]);
    socket().open();
    expect(socket().sent).toEqual([
      { type: 'call', id: 1, op: 'getImage', input: { id: 3, thumbnail: true } },
      { type: 'call', id: 2, op: 'listModels', input: {} },
    ]);
    socket().receive({ type: 'result', id: 2, ok: true, value: [] });
    socket().receive({ type: 'result', id: 1, ok: true, value: new Uint8Array([1, 2, 3]) });
    expect(await models).toEqual([]);
    expect(Array.from(await image)).toEqual([1, 2, 3]);
  });

  it('sends Uint8Array inputs as blobs', () => {
    const { api, socket } = setup();
    socket().open();
    void api.generate({ modelId: 'm', settings: {} as never, initImage: new Uint8Array([9, 8]) });
    const sent = socket().sent[0] as { input: { initImage: Uint8Array } };
    expect(sent.input.initImage).toBeInstanceOf(Uint8Array);
    expect(Array.from(sent.input.initImage)).toEqual([9, 8]);
  });

  it('rejects with the error kind and message', async () => {
    const { api, socket } = setup();
    socket().open();
    const call = api.importModel({ path: '/nope' });
    socket().receive({ type: 'result', id: 1, ok: false, error: { kind: 'invalid', message: '/nope: no model_index.json' } });
    await expect(call).rejects.toMatchObject({ kind: 'invalid', message: '/nope: no model_index.json' });
    await expect(call).rejects.toBeInstanceOf(StudioCallError);
  });

  it('rejects with the field the error names, and none that is not a field', async () => {
    const { api, socket } = setup();
    socket().open();
    const named = api.generate({ modelId: 'gone', settings: {} as never });
    socket().receive({ type: 'result', id: 1, ok: false, error: { kind: 'invalid', message: 'no model with id gone', field: 'modelId' } });
    await expect(named).rejects.toMatchObject({ kind: 'invalid', field: 'modelId' });
    const odd = api.generate({ modelId: 'm', settings: {} as never });
    socket().receive({ type: 'result', id: 2, ok: false, error: { kind: 'invalid', message: 'x', field: '__proto__' } });
    const refused = (await odd.catch((e: unknown) => e)) as StudioCallError;
    expect(refused.field).toBeUndefined();
  });

  it('delivers events to listeners until they unsubscribe', () => {
    const { api, socket } = setup();
    socket().open();
    const seen: unknown[] = [];
    const off = api.on('failed', (p) => seen.push(p.kind));
    socket().receive({ type: 'event', event: 'failed', payload: { jobId: 'job-1', kind: 'cancelled', message: '' } });
    off();
    socket().receive({ type: 'event', event: 'failed', payload: { jobId: 'job-1', kind: 'internal', message: '' } });
    expect(seen).toEqual(['cancelled']);
  });

  it('ignores malformed frames', () => {
    const { socket } = setup();
    socket().open();
    expect(() => socket().onmessage?.({ data: new Uint8Array([1]).buffer })).not.toThrow();
    expect(() => socket().onmessage?.({ data: 'text' })).not.toThrow();
  });

  it('reports a refused token (4401), fails pending calls, and reconnects on demand', async () => {
    const { api, sockets, socket } = setup();
    const statuses: string[] = [];
    api.connection.onChange((s) => statuses.push(s));
    socket().open();
    const call = api.listModels({});
    socket().drop(4401);
    await expect(call).rejects.toMatchObject({ kind: 'refused' });
    await expect(call).rejects.toBeInstanceOf(DisconnectedError);
    expect(api.connection.status).toBe('refused');
    expect(api.connection.detail).toMatch(/token/);
    await expect(api.listGallery({})).rejects.toMatchObject({ kind: 'refused' });
    api.connection.reconnect();
    expect(sockets).toHaveLength(2);
    socket().open();
    expect(statuses).toEqual(['open', 'refused', 'connecting', 'open']);
  });

  it('says when the studio cannot be reached or the connection drops', () => {
    const a = setup();
    a.socket().drop(1006);
    expect(a.api.connection.status).toBe('closed');
    expect(a.api.connection.detail).toMatch(/Could not reach/);
    const b = setup();
    b.socket().open();
    b.socket().drop(1001, 'going away');
    expect(b.api.connection.detail).toMatch(/closed: going away/);
  });

  it('refuses without a token, without connecting', async () => {
    let made = 0;
    const api = createSocketApi(null, () => {
      made++;
      return new FakeSocket('');
    });
    expect(made).toBe(0);
    expect(api.connection.status).toBe('refused');
    await expect(api.listModels({})).rejects.toMatchObject({ kind: 'refused' });
  });
});

describe('token', () => {
  const storage = () => {
    const map = new Map<string, string>();
    return { getItem: (k: string) => map.get(k) ?? null, setItem: (k: string, v: string) => void map.set(k, v) };
  };

  it('takes the token from the hash, keeps it and hides it from the URL', () => {
    const store = storage();
    const replaced: string[] = [];
    const history = { state: null, replaceState: (_s: unknown, _t: string, url?: string | URL | null) => void replaced.push(String(url)) };
    expect(takeToken({ hash: '#token=abc-_1', pathname: '/', search: '' }, store, history)).toBe('abc-_1');
    expect(replaced).toEqual(['/']);
    expect(takeToken({ hash: '', pathname: '/', search: '' }, store, history)).toBe('abc-_1');
    expect(takeToken({ hash: '', pathname: '/', search: '' }, storage(), history)).toBeNull();
  });

  it('builds the socket URL on the page host', () => {
    expect(socketUrl({ protocol: 'http:', host: '127.0.0.1:5173' }, 'a b')).toBe('ws://127.0.0.1:5173/ws?token=a%20b');
    expect(socketUrl({ protocol: 'https:', host: 'x' }, 't')).toBe('wss://x/ws?token=t');
  });
});

describe('toCallError', () => {
  it('unwraps Electron invoke errors and keeps a kind', () => {
    expect(toCallError(new Error("Error invoking remote method 'generate': Error: steps too high"))).toMatchObject({ kind: 'internal', message: 'steps too high' });
    expect(toCallError({ kind: 'invalid', message: 'bad' })).toMatchObject({ kind: 'invalid', message: 'bad' });
    expect(toCallError('boom')).toMatchObject({ kind: 'internal', message: 'boom' });
    expect(toCallError(new Error('[invalid] settings.steps: too many'))).toMatchObject({ kind: 'invalid', message: 'settings.steps: too many' });
    expect(toCallError(Object.assign(new Error('[invalid] x'), { kind: 'refused' }))).toMatchObject({ kind: 'refused', message: 'x' });
  });

  it('reads the field the preload wrote into the message, as the preload writes it', () => {
    const sent = { kind: 'invalid', field: 'initImage', message: 'the init image is 8000x8000, larger than the 32x32 image being made' } as const;
    const crossed = new Error(`Error invoking remote method 'generate': Error: ${callErrorText(sent)}`);
    expect(toCallError(crossed)).toMatchObject(sent);
    expect(toCallError(Object.assign(new Error('[invalid] x'), { field: 'steps' }))).toMatchObject({ kind: 'invalid', field: 'steps', message: 'x' });
  });

  it('leaves text that only looks like the format as it is', () => {
    for (const text of ['[invalid:nonsense] x', '[broken] x', '[invalid:steps]x']) {
      const read = toCallError(new Error(text));
      expect(read).toMatchObject({ kind: 'internal', message: text });
      expect(read.field).toBeUndefined();
    }
  });
});
