/** Reading JSON from files the user handed us, without quoting them back. */
import { readFileBounded } from './files';

/** Model configs and tokenizer files are at most this large (a CLIP tokenizer.json is ~2 MB). */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;
export const MAX_TOKENIZER_BYTES = 64 * 1024 * 1024;

/**
 * Where JSON.parse gave up, as "line L, column C", never its message: V8 quotes the start of
 * the text ("Unexpected token 'r', "root:x:0:0"... is not valid JSON"), and the file may be a
 * link to something that is not the user's to show.
 */
export function jsonErrorPlace(text: string, error: unknown): string {
  const message = (error as Error).message;
  const m = /position (\d+)/.exec(message);
  if (!m) return /end of JSON/.test(message) ? 'it ends too early' : 'an unexpected character';
  const at = Math.min(Number(m[1]), text.length);
  const before = text.slice(0, at);
  const line = before.split('\n').length;
  return `at line ${line}, column ${at - before.lastIndexOf('\n')}`;
}

/** Parses a bounded regular file as JSON; `fail` builds the error for a file that is not valid JSON. */
export function readJsonBounded(file: string, maxBytes: number, shown: string, fail: (message: string) => Error): unknown {
  const text = readFileBounded(file, maxBytes, shown).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw fail(`${shown} is not valid JSON (${jsonErrorPlace(text, error)})`);
  }
}

/** A bounded regular file as UTF-8 text. */
export function readTextBounded(file: string, maxBytes: number, shown: string): string {
  return readFileBounded(file, maxBytes, shown).toString('utf8');
}
