import { describe, expect, test } from 'vitest';
import { OPERATIONS } from '../../shared/contract';
import { baseSettings } from '../../shared/modelSettings';
import { type IpcMainLike, type IpcResult, channelFor, registerStudioIpc } from './ipc';
import { createStudioService } from '../studio/service';

/** A studio service whose dependencies record what reaches them. */
function fakeService() {
  const calls: string[] = [];
  const service = createStudioService({
    registry: { folders: () => [], find: () => undefined, import: () => { throw new Error('not here'); } } as never,
    host: { newJobId: () => 'job-1', cancel: (id: string) => (calls.push(`cancel ${id}`), true) } as never,
    gallery: { list: (q: unknown) => (calls.push(`list ${JSON.stringify(q)}`), { items: [], total: 0 }), get: () => undefined } as never,
    emit: () => {},
    providers: ['cpu'],
  });
  return { service, calls };
}

function fakeIpcMain() {
  const handlers = new Map<string, Parameters<IpcMainLike['handle']>[1]>();
  return { ipcMain: { handle: (channel: string, listener: Parameters<IpcMainLike['handle']>[1]) => void handlers.set(channel, listener) }, handlers };
}

const trustedSender = { id: 'our window' };
const rendererUrl = 'file:///app/out/renderer/index.html';

function setup() {
  const { service, calls } = fakeService();
  const { ipcMain, handlers } = fakeIpcMain();
  registerStudioIpc(ipcMain, service, (sender, url) => sender === trustedSender && url === rendererUrl);
  const invoke = (op: string, input: unknown, sender: unknown = trustedSender, url: string | null = rendererUrl) =>
    handlers.get(channelFor(op))!({ sender, senderFrame: url === null ? null : { url } }, input) as Promise<IpcResult>;
  return { invoke, calls, handlers };
}

test('one channel per operation of the contract, nothing else', () => {
  const { handlers } = setup();
  expect([...handlers.keys()].sort()).toEqual(OPERATIONS.map(channelFor).sort());
});

describe('IPC from an unknown sender is refused before anything runs', () => {
  test.each([
    ['another webContents', { id: 'a stranger' }, rendererUrl],
    ['our window, but a foreign frame', trustedSender, 'https://example.com/'],
    ['no sender frame', trustedSender, null],
  ])('%s', async (_name, sender, url) => {
    const { invoke, calls } = setup();
    const result = await invoke('cancel', { jobId: 'job-1' }, sender, url);
    expect(result).toEqual({ ok: false, error: { kind: 'refused', message: 'IPC from an unknown sender was refused' } });
    expect(calls).toEqual([]);
  });
});

describe('malformed arguments are rejected with the field at fault', () => {
  test.each([
    ['cancel', { jobId: 42 }, /jobId/],
    ['cancel', { jobId: 'job-1', extra: true }, /Unrecognized key/],
    ['listGallery', { limit: 100000 }, /limit/],
    ['generate', { modelId: 'm', settings: { steps: 20 } }, /settings\./],
    ['generate', 'not an object', /input/],
    ['getImage', { id: -1 }, /id/],
    ['listGallery', { solver: 'euler9' }, /solver/],
    ['listGallery', { favourite: 'yes' }, /favourite/],
    ['setFavourite', { id: 1 }, /favourite/],
    ['setTags', { id: 1, tags: Array.from({ length: 101 }, (_, i) => `t${i}`) }, /tags/],
    ['setTags', { id: 1, tags: ['x'.repeat(101)] }, /tags\.0/],
    ['trashGeneration', { id: 0 }, /id/],
    ['showFile', { id: 1.5 }, /id/],
    ['emptyTrash', { all: true }, /Unrecognized key/],
    ['importPng', { png: 'not bytes' }, /png/],
  ])('%s %j', async (op, input, message) => {
    const { invoke, calls } = setup();
    const result = await invoke(op, input);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.kind).toBe('invalid');
      expect(result.error.message).toMatch(message);
    }
    expect(calls).toEqual([]);
  });

  test('a dropped PNG over the size limit is refused before anything reads it', async () => {
    const { invoke } = setup();
    const result = await invoke('importPng', { png: new Uint8Array(25 * 1024 * 1024) });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatchObject({ kind: 'invalid', message: expect.stringMatching(/png: the PNG is too large/) });
  });

  test('NaN and out-of-range numbers in settings are refused', async () => {
    const { invoke } = setup();
    const settings = {
      task: 'txt2img', prompt: '', negativePrompt: '', classLabel: null, classifierScale: 0, solver: 'stsp4', steps: 20, guidance: Number.NaN,
      conditionAt: 'exact', consistencyScale: 0.01, seed: 1, width: 32, height: 32, spacing: 'linspace', clipX0: null, strength: 1,
    };
    const result = await invoke('generate', { modelId: 'm', settings });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toMatch(/settings\.guidance/);
  });

  test('a refusal about one input names it as a field, for the control it belongs beside', async () => {
    const { invoke } = setup();
    const result = await invoke('generate', { modelId: 'not installed', settings: baseSettings() });
    expect(result).toEqual({ ok: false, error: { kind: 'invalid', field: 'modelId', message: 'no model with id not installed; pick one from the list' } });
  });
});

test('valid calls reach the service', async () => {
  const { invoke, calls } = setup();
  expect(await invoke('listGallery', { search: 'apple' })).toEqual({ ok: true, value: { items: [], total: 0 } });
  expect(calls).toEqual(['list {"search":"apple","offset":0,"limit":60}']);
});

test('gallery filters reach the store as its query: favourites only when ticked, the trash as onlyDeleted', async () => {
  const { invoke, calls } = setup();
  await invoke('listGallery', { solver: 'stsp4', task: 'txt2img', modelId: '/m', favourite: true, trash: true });
  await invoke('listGallery', { favourite: false, trash: false });
  expect(calls).toEqual([
    'list {"offset":0,"limit":60,"modelId":"/m","solver":"stsp4","task":"txt2img","favourite":true,"onlyDeleted":true}',
    'list {"offset":0,"limit":60}',
  ]);
});
