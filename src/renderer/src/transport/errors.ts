import type { CallError } from '../../../shared/contract';

const KINDS: readonly CallError['kind'][] = ['invalid', 'refused', 'internal'];

/** A failed studio call: `kind` says whether the user's input was at fault ('invalid'). */
export class StudioCallError extends Error implements CallError {
  readonly kind: CallError['kind'];

  constructor(kind: CallError['kind'], message: string) {
    super(message);
    this.name = 'StudioCallError';
    this.kind = kind;
  }
}

/** A call that failed because the connection is closed or refused (the banner says so). */
export class DisconnectedError extends StudioCallError {}

/**
 * Any rejection as a StudioCallError. Electron's ipcRenderer.invoke prefixes the message
 * ("Error invoking remote method 'generate': Error: ...") and the contextBridge may drop an
 * Error's own fields, so: a `kind` field wins, then a "[invalid] ..." message prefix, else 'internal'.
 */
export function toCallError(error: unknown): StudioCallError {
  if (error instanceof StudioCallError) return error;
  if (error && typeof error === 'object') {
    const e = error as { kind?: unknown; message?: unknown };
    let message = typeof e.message === 'string' ? cleanMessage(e.message) : String(error);
    let kind: CallError['kind'] = KINDS.includes(e.kind as CallError['kind']) ? (e.kind as CallError['kind']) : 'internal';
    // The contextBridge copies an Error's message but not its own fields: a "[kind] " prefix survives.
    const tagged = /^\[(invalid|refused|internal)\] ([\s\S]*)$/.exec(message);
    if (tagged) {
      if (!KINDS.includes(e.kind as CallError['kind'])) kind = tagged[1] as CallError['kind'];
      message = tagged[2]!;
    }
    return new StudioCallError(kind, message);
  }
  return new StudioCallError('internal', String(error));
}

function cleanMessage(message: string): string {
  return message.replace(/^Error invoking remote method '[^']*': (?:[A-Za-z]*Error: )?/, '');
}
