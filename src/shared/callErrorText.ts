/**
 * A CallError carried as an Error's message. Electron's contextBridge hands the renderer only
 * the message of an Error thrown in the preload, not its own fields, so the preload writes the
 * kind and field into a prefix ("[invalid:steps] steps must be ...") and the renderer reads
 * them back here: one format, written and read in this file. No Node, no DOM, no zod (the
 * sandboxed preload bundles it).
 */
import type { CallError } from './contract';
import { CALL_ERROR_KINDS, type CallErrorKind } from './operations';
import { isFieldName } from './settingsFields';

export function isCallErrorKind(value: unknown): value is CallErrorKind {
  return (CALL_ERROR_KINDS as readonly unknown[]).includes(value);
}

export function callErrorText(error: CallError): string {
  return `[${error.kind}${error.field ? `:${error.field}` : ''}] ${error.message}`;
}

/** The CallError that callErrorText wrote, or null when `text` is not one. */
export function readCallErrorText(text: string): CallError | null {
  const tagged = /^\[([a-z]+)(?::([A-Za-z0-9]+))?\] ([\s\S]*)$/.exec(text);
  if (!tagged || !isCallErrorKind(tagged[1])) return null;
  const field = tagged[2];
  if (field !== undefined && !isFieldName(field)) return null;
  return { kind: tagged[1], message: tagged[3]!, ...(field !== undefined ? { field } : {}) };
}
