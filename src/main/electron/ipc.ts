/**
 * Electron IPC for the studio: one allow-listed channel per operation of the contract; every
 * handler first checks that the sender is the app's own window and frame, then the service
 * validates the arguments against the contract's schema. Takes ipcMain as a parameter so
 * plain Node tests can drive it with a fake.
 */
import { OPERATIONS, type CallError } from '../../shared/contract';
import { EVENT_CHANNEL, channelFor } from '../../shared/operations';
import { type StudioService, toCallError } from '../studio/service';

export { EVENT_CHANNEL, channelFor };

export type IpcResult = { ok: true; value: unknown } | { ok: false; error: CallError };

export interface IpcMainLike {
  handle(channel: string, listener: (event: { sender: unknown; senderFrame?: { url?: string } | null }, input: unknown) => Promise<IpcResult>): void;
}

export function registerStudioIpc(ipcMain: IpcMainLike, service: StudioService, isTrusted: (sender: unknown, frameUrl: string | undefined) => boolean): void {
  for (const op of OPERATIONS) {
    ipcMain.handle(channelFor(op), async (event, input) => {
      if (!isTrusted(event.sender, event.senderFrame?.url)) {
        return { ok: false, error: { kind: 'refused', message: 'IPC from an unknown sender was refused' } };
      }
      try {
        return { ok: true, value: await service.handle(op, input) };
      } catch (error) {
        return { ok: false, error: toCallError(error) };
      }
    });
  }
}
