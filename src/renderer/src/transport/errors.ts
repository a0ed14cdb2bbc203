import { isCallErrorKind, readCallErrorText } from '../../../shared/callErrorText';
import type { CallError } from '../../../shared/contract';
import { type FieldName, isFieldName } from '../../../shared/settingsFields';

/**
 * A failed studio call: `kind` says whether the user's input was at fault ('invalid'), and
 * `field` which setting or input, when main named one.
 */
export class StudioCallError extends Error implements CallError {
  readonly kind: CallError['kind'];
  readonly field?: FieldName;

  constructor(kind: CallError['kind'], message: string, field?: FieldName) {
    super(message);
    this.name = 'StudioCallError';
    this.kind = kind;
    if (field !== undefined) this.field = field;
  }
}

/** A call that failed because the connection is closed or refused (the banner says so). */
export class DisconnectedError extends StudioCallError {}

/**
 * Any rejection as a StudioCallError. Electron's ipcRenderer.invoke prefixes the message
 * ("Error invoking remote method 'generate': Error: ...") and the contextBridge drops an
 * Error's own fields, so the preload writes kind and field into the message (callErrorText):
 * own fields win, then that text, else 'internal'.
 */
export function toCallError(error: unknown): StudioCallError {
  if (error instanceof StudioCallError) return error;
  if (error && typeof error === 'object') {
    const e = error as { kind?: unknown; message?: unknown; field?: unknown };
    const text = typeof e.message === 'string' ? cleanMessage(e.message) : String(error);
    const written = readCallErrorText(text);
    const kind = isCallErrorKind(e.kind) ? e.kind : (written?.kind ?? 'internal');
    const field = isFieldName(e.field) ? e.field : written?.field;
    return new StudioCallError(kind, written?.message ?? text, field);
  }
  return new StudioCallError('internal', String(error));
}

function cleanMessage(message: string): string {
  return message.replace(/^Error invoking remote method '[^']*': (?:[A-Za-z]*Error: )?/, '');
}
