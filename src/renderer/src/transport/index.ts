/**
 * The renderer's one way to the studio: Electron's preload (`window.splitStudio`) when it
 * is there, otherwise the served studio's WebSocket on this page's host.
 */
import type { EventName, StudioApi, StudioEvents } from '../../../shared/contract';
import { toCallError } from './errors';
import { OPERATION_NAMES } from './operations';
import { type Connection, type ConnectedApi, createSocketApi } from './socket';
import { socketUrl, takeToken } from './token';

export { DisconnectedError, StudioCallError, toCallError } from './errors';
export type { Connection, ConnectionStatus } from './socket';

declare global {
  interface Window {
    splitStudio?: Partial<StudioApi>;
  }
}

function isStudioApi(value: unknown): value is StudioApi {
  if (!value || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return typeof v.on === 'function' && OPERATION_NAMES.every((op) => typeof v[op] === 'function');
}

/** The preload's functions, with rejections normalised to StudioCallError. */
function wrapPreloadApi(raw: StudioApi): StudioApi {
  const api = Object.fromEntries(
    OPERATION_NAMES.map((op) => [
      op,
      async (input: unknown) => {
        try {
          return await (raw[op] as (i: unknown) => Promise<unknown>)(input);
        } catch (error) {
          throw toCallError(error);
        }
      },
    ]),
  ) as unknown as StudioApi;
  api.on = <E extends EventName>(event: E, listener: (payload: StudioEvents[E]) => void) => raw.on(event, listener);
  return api;
}

export function createStudioApi(): StudioApi {
  if (isStudioApi(window.splitStudio)) return wrapPreloadApi(window.splitStudio);
  const token = takeToken(location, safeSessionStorage(), history);
  return createSocketApi(token ? socketUrl(location, token) : null);
}

/** The served transport's connection (for the banner), or null under Electron. */
export function connectionOf(api: StudioApi): Connection | null {
  return (api as Partial<ConnectedApi>).connection ?? null;
}

function safeSessionStorage(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}
