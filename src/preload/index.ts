/**
 * The preload: exposes the studio API to the sandboxed renderer as one named function per
 * operation of the contract (never raw ipcRenderer), plus `on(event, listener)`.
 *
 * A sandboxed renderer runs its preload as one CommonJS script whose `require` offers only
 * `electron`, `events`, `timers` and `url`, so this file imports nothing at run time but
 * `electron` and dependency-free shared code (the operation list, the error text format; no
 * zod, no Node modules), which the build bundles in; main validates every argument against
 * the contract's zod schemas (src/main/electron/ipc.ts). The build makes out/preload/index.cjs, and
 * sandbox.test.ts runs that file the way Electron does.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { callErrorText } from '../shared/callErrorText';
import type { CallError, EventName } from '../shared/contract';
import { EVENT_CHANNEL, OPERATION_NAMES, channelFor } from '../shared/operations';

type IpcResult = { ok: true; value: unknown } | { ok: false; error: CallError };

const api: Record<string, unknown> = {};
for (const op of OPERATION_NAMES) {
  api[op] = async (input: unknown) => {
    const result = (await ipcRenderer.invoke(channelFor(op), input)) as IpcResult;
    if (result.ok) return result.value;
    // Only an Error's message survives the context bridge, so the kind and field travel in it.
    throw new Error(callErrorText(result.error));
  };
}
api.on = (event: EventName, listener: (payload: unknown) => void) => {
  const handler = (_e: unknown, message: { event: EventName; payload: unknown }) => {
    if (message.event === event) listener(message.payload);
  };
  ipcRenderer.on(EVENT_CHANNEL, handler);
  return () => void ipcRenderer.removeListener(EVENT_CHANNEL, handler);
};

contextBridge.exposeInMainWorld('splitStudio', api);
