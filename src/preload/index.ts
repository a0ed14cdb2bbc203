/**
 * The preload: exposes the studio API to the sandboxed renderer as one named function per
 * operation of the contract (never raw ipcRenderer), plus `on(event, listener)`.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { type EventName, OPERATIONS } from '../shared/contract';

type IpcResult = { ok: true; value: unknown } | { ok: false; error: { kind: string; message: string } };

const api: Record<string, unknown> = {};
for (const op of OPERATIONS) {
  api[op] = async (input: unknown) => {
    const result = (await ipcRenderer.invoke(`studio:${op}`, input)) as IpcResult;
    if (result.ok) return result.value;
    // Only an Error's message survives the context bridge, so the kind travels in it.
    throw new Error(`[${result.error.kind}] ${result.error.message}`);
  };
}
api.on = (event: EventName, listener: (payload: unknown) => void) => {
  const handler = (_e: unknown, message: { event: EventName; payload: unknown }) => {
    if (message.event === event) listener(message.payload);
  };
  ipcRenderer.on('studio:event', handler);
  return () => void ipcRenderer.removeListener('studio:event', handler);
};

contextBridge.exposeInMainWorld('splitStudio', api);
