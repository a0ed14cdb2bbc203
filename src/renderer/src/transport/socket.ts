/**
 * The served studio's transport: the StudioApi over one WebSocket of binary frames
 * (src/shared/frames.ts). Calls are {type:'call', id, op, input}; the server answers
 * {type:'result', id, ok, value | error} and pushes {type:'event', event, payload}.
 */
import type { CallError, EventName, OperationName, StudioApi, StudioEvents } from '../../../shared/contract';
import { decodeFrame, encodeFrame } from '../../../shared/frames';
import { isFieldName } from '../../../shared/settingsFields';
import { DisconnectedError, StudioCallError } from './errors';
import { OPERATION_NAMES } from './operations';

export type ConnectionStatus = 'connecting' | 'open' | 'closed' | 'refused';

export interface Connection {
  readonly status: ConnectionStatus;
  /** Why the connection is closed or refused, for the banner. */
  readonly detail: string;
  onChange(listener: (status: ConnectionStatus) => void): () => void;
  reconnect(): void;
}

/** The part of the DOM WebSocket the transport uses (a fake in tests). */
export interface SocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

const TOKEN_REFUSED = 4401;

export type ConnectedApi = StudioApi & { readonly connection: Connection };

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

export function createSocketApi(url: string | null, createSocket: (url: string) => SocketLike = (u) => new WebSocket(u) as unknown as SocketLike): ConnectedApi {
  let socket: SocketLike | null = null;
  let status: ConnectionStatus = 'connecting';
  let detail = '';
  let nextId = 1;
  let everOpened = false;
  const pending = new Map<number, Pending>();
  const queue: Uint8Array[] = [];
  const statusListeners = new Set<(s: ConnectionStatus) => void>();
  const eventListeners = new Map<EventName, Set<(payload: never) => void>>();

  const setStatus = (next: ConnectionStatus, why = '') => {
    status = next;
    detail = why;
    for (const listener of statusListeners) listener(next);
  };

  const failAll = (kind: CallError['kind'], message: string) => {
    queue.length = 0;
    const waiting = [...pending.values()];
    pending.clear();
    for (const p of waiting) p.reject(new DisconnectedError(kind, message));
  };

  const handle = (data: unknown) => {
    if (!(data instanceof ArrayBuffer)) {
      console.warn('split-studio: ignored a non-binary frame');
      return;
    }
    let message: { type?: unknown; id?: unknown; ok?: unknown; value?: unknown; error?: Partial<CallError>; event?: unknown; payload?: unknown };
    try {
      message = decodeFrame(new Uint8Array(data)) as typeof message;
    } catch (error) {
      console.warn(`split-studio: ignored a malformed frame: ${(error as Error).message}`);
      return;
    }
    if (message?.type === 'result' && typeof message.id === 'number') {
      const p = pending.get(message.id);
      if (!p) return;
      pending.delete(message.id);
      if (message.ok === true) p.resolve(message.value);
      else {
        const kind = message.error?.kind === 'invalid' || message.error?.kind === 'refused' ? message.error.kind : 'internal';
        const field = isFieldName(message.error?.field) ? message.error.field : undefined;
        p.reject(new StudioCallError(kind, String(message.error?.message ?? 'the call failed'), field));
      }
    } else if (message?.type === 'event' && typeof message.event === 'string') {
      for (const listener of eventListeners.get(message.event as EventName) ?? []) {
        try {
          (listener as (payload: unknown) => void)(message.payload);
        } catch (error) {
          console.error(error);
        }
      }
    }
  };

  const connect = () => {
    if (!url) {
      setStatus('refused', 'This page was opened without its access token. Open the link that `split-studio` printed (it ends in #token=…).');
      return;
    }
    everOpened = false;
    setStatus('connecting');
    const ws = createSocket(url);
    socket = ws;
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => {
      if (socket !== ws) return;
      everOpened = true;
      setStatus('open');
      for (const frame of queue.splice(0)) ws.send(frame);
    };
    ws.onmessage = (event) => {
      if (socket === ws) handle(event.data);
    };
    ws.onerror = () => {
      // onclose follows with the code; nothing to add here
    };
    ws.onclose = (event) => {
      if (socket !== ws) return;
      socket = null;
      if (event.code === TOKEN_REFUSED) {
        const why = 'The studio refused this page’s access token (it changes every launch). Open the new link that `split-studio` printed.';
        failAll('refused', why);
        setStatus('refused', why);
      } else {
        const why = everOpened ? `The connection to the studio closed${event.reason ? `: ${event.reason}` : ''}.` : 'Could not reach the studio. Is `split-studio` still running?';
        failAll('internal', why);
        setStatus('closed', why);
      }
    };
  };

  const call = (op: OperationName, input: unknown): Promise<unknown> =>
    new Promise((resolve, reject) => {
      if (status === 'closed' || status === 'refused') {
        reject(new DisconnectedError(status === 'refused' ? 'refused' : 'internal', detail || 'not connected to the studio'));
        return;
      }
      const id = nextId++;
      let frame: Uint8Array;
      try {
        frame = encodeFrame({ type: 'call', id, op, input });
      } catch (error) {
        reject(new StudioCallError('invalid', (error as Error).message));
        return;
      }
      pending.set(id, { resolve, reject });
      if (status === 'open' && socket) socket.send(frame);
      else queue.push(frame);
    });

  const connection: Connection = {
    get status() {
      return status;
    },
    get detail() {
      return detail;
    },
    onChange(listener) {
      statusListeners.add(listener);
      return () => statusListeners.delete(listener);
    },
    reconnect() {
      if (status === 'open' || status === 'connecting') return;
      connect();
    },
  };

  const api = Object.fromEntries(OPERATION_NAMES.map((op) => [op, (input: unknown) => call(op, input)])) as unknown as StudioApi;
  api.on = <E extends EventName>(event: E, listener: (payload: StudioEvents[E]) => void) => {
    let set = eventListeners.get(event);
    if (!set) eventListeners.set(event, (set = new Set()));
    set.add(listener as (payload: never) => void);
    return () => void set.delete(listener as (payload: never) => void);
  };
  connect();
  return Object.assign(api, { connection });
}
