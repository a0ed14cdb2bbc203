/**
 * Ours: pngjs neither reads nor writes text chunks, and the gallery keeps every image's settings in them.
 *
 * tEXt, zTXt and iTXt (§11.3.4), read with one inflate budget per file against text bombs,
 * and written as tEXt (Latin-1) or uncompressed iTXt (UTF-8).
 */
import { inflateSync } from 'node:zlib';
import { PngError, type RawChunk, hex, makeChunk } from './pngChunks';

/** Total inflated size of all zTXt/compressed iTXt chunks of one file, against text bombs. */
export const MAX_TEXT_BYTES = 16 * 1024 * 1024;

/** ISO 8859-1 bytes to a string. Node's 'latin1' maps byte n to U+00nn; TextDecoder('latin1') would be windows-1252. */
function latin1ToString(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
}

/** Own enumerable property even for keys such as "__proto__", which plain assignment would drop. */
function setEntry(record: Record<string, string>, key: string, value: string): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}

/** §11.3.4.2: 1..79 printable Latin-1 characters (32-126, 161-255), no leading, trailing or double space. */
function keywordProblem(keyword: string): string | undefined {
  if (keyword.length < 1 || keyword.length > 79) return `has length ${keyword.length} (must be 1 to 79)`;
  for (let i = 0; i < keyword.length; i++) {
    const c = keyword.charCodeAt(i);
    if (!((c >= 32 && c <= 126) || (c >= 161 && c <= 255))) return `contains character U+${hex(c, 4)}, not printable Latin-1`;
  }
  if (keyword.startsWith(' ') || keyword.endsWith(' ') || keyword.includes('  ')) return 'has leading, trailing or consecutive spaces';
  return undefined;
}

// ---------------------------------------------------------------------------------------
// Reading.

interface TextEntry {
  keyword: string;
  text: string;
  /** Bytes inflated to read it, counted against MAX_TEXT_BYTES. */
  inflated: number;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    throw new PngError(`PNG: ${what} is not valid UTF-8`);
  }
}

/** Splits at the first NUL: the keyword (§11.3.4.2) and what follows. */
function splitKeyword(c: RawChunk): { keyword: string; rest: Uint8Array } {
  const nul = c.data.indexOf(0);
  if (nul < 0) throw new PngError(`PNG: ${c.type} chunk at byte ${c.offset} has no NUL separator after its keyword`);
  const keyword = latin1ToString(c.data.subarray(0, nul));
  const problem = keywordProblem(keyword);
  if (problem) throw new PngError(`PNG: ${c.type} chunk at byte ${c.offset}: keyword ${problem}`);
  return { keyword, rest: c.data.subarray(nul + 1) };
}

/** Inflates a text chunk's zlib stream (§10.3), never past the remaining text budget. */
function inflateText(c: RawChunk, compressed: Uint8Array, budget: number): Uint8Array {
  const overLimit = () => new PngError(`PNG: ${c.type} chunk at byte ${c.offset} inflates beyond the ${MAX_TEXT_BYTES}-byte text limit`);
  let raw: Uint8Array;
  try {
    raw = inflateSync(compressed, { maxOutputLength: Math.max(1, budget) }); // zlib refuses a limit of 0
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw overLimit();
    throw new PngError(`PNG: corrupt zlib data in ${c.type} chunk at byte ${c.offset} (${(e as Error).message})`);
  }
  if (raw.length > budget) throw overLimit();
  return raw;
}

function latin1Text(c: RawChunk, bytes: Uint8Array): string {
  // §11.3.4.3: the text of tEXt and zTXt contains no NUL.
  if (bytes.includes(0)) throw new PngError(`PNG: ${c.type} chunk at byte ${c.offset} has a NUL in its text`);
  return latin1ToString(bytes);
}

/** §11.3.4.3 tEXt: keyword NUL text. */
function decodeText(c: RawChunk): TextEntry {
  const { keyword, rest } = splitKeyword(c);
  return { keyword, text: latin1Text(c, rest), inflated: 0 };
}

/** §11.3.4.4 zTXt: keyword NUL method(0) zlib-stream. */
function decodeZtxt(c: RawChunk, budget: number): TextEntry {
  const { keyword, rest } = splitKeyword(c);
  if (rest.length < 1) throw new PngError(`PNG: truncated chunk zTXt at byte ${c.offset} (no compression method)`);
  if (rest[0] !== 0) throw new PngError(`PNG: zTXt chunk at byte ${c.offset} has unknown compression method ${rest[0]}`);
  const raw = inflateText(c, rest.subarray(1), budget);
  return { keyword, text: latin1Text(c, raw), inflated: raw.length };
}

/** §11.3.4.5 iTXt: keyword NUL flag method language NUL translated-keyword NUL text. */
function decodeItxt(c: RawChunk, budget: number): TextEntry {
  const { keyword, rest } = splitKeyword(c);
  if (rest.length < 2) throw new PngError(`PNG: truncated chunk iTXt at byte ${c.offset} (no compression flag and method)`);
  const [flag, method] = rest;
  if (flag > 1) throw new PngError(`PNG: iTXt chunk at byte ${c.offset} has invalid compression flag ${flag}`);
  if (flag === 1 && method !== 0) throw new PngError(`PNG: iTXt chunk at byte ${c.offset} has unknown compression method ${method}`);
  const langEnd = rest.indexOf(0, 2);
  const transEnd = langEnd < 0 ? -1 : rest.indexOf(0, langEnd + 1);
  if (transEnd < 0) throw new PngError(`PNG: truncated chunk iTXt at byte ${c.offset} (language tag or translated keyword not terminated)`);
  const body = rest.subarray(transEnd + 1);
  const raw = flag === 1 ? inflateText(c, body, budget) : body;
  return { keyword, text: decodeUtf8(raw, `text of iTXt chunk at byte ${c.offset}`), inflated: flag === 1 ? raw.length : 0 };
}

/** All text chunks into one record (a later chunk wins on a repeated keyword); inflated bytes share MAX_TEXT_BYTES. */
export function decodeTextChunks(chunks: readonly RawChunk[]): Record<string, string> {
  const out: Record<string, string> = {};
  let budget = MAX_TEXT_BYTES;
  for (const c of chunks) {
    const entry = c.type === 'tEXt' ? decodeText(c) : c.type === 'zTXt' ? decodeZtxt(c, budget) : decodeItxt(c, budget);
    budget -= entry.inflated;
    setEntry(out, entry.keyword, entry.text);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Writing.

export interface TextOptions {
  /** tEXt chunks: Latin-1 keyword (1..79 chars) and Latin-1 text. */
  text?: Record<string, string>;
  /** iTXt chunks: Latin-1 keyword and UTF-8 text, stored uncompressed. */
  itxt?: Record<string, string>;
}

function checkKeyword(keyword: string, option: string): void {
  const problem = keywordProblem(keyword);
  if (problem) throw new PngError(`PNG: ${option} keyword ${JSON.stringify(keyword)} ${problem}`);
}

/** §11.3.4.3 tEXt: keyword NUL text, both Latin-1, no NUL in the text. */
function textChunk(keyword: string, text: string): Uint8Array {
  checkKeyword(keyword, 'text');
  if (typeof text !== 'string') throw new PngError(`PNG: text value for keyword ${JSON.stringify(keyword)} is not a string`);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) {
      throw new PngError(`PNG: text value for keyword ${JSON.stringify(keyword)} is not Latin-1 (U+${hex(c, 4)} at index ${i}); pass it in the itxt option, which stores UTF-8`);
    }
    if (c === 0) throw new PngError(`PNG: text value for keyword ${JSON.stringify(keyword)} contains NUL`);
  }
  return makeChunk('tEXt', Buffer.from(`${keyword}\0${text}`, 'latin1'));
}

/** §11.3.4.5 iTXt, uncompressed: keyword NUL 0 0 (empty language tag) NUL (empty translated keyword) NUL UTF-8 text. */
function itxtChunk(keyword: string, text: string): Uint8Array {
  checkKeyword(keyword, 'itxt');
  if (typeof text !== 'string') throw new PngError(`PNG: itxt value for keyword ${JSON.stringify(keyword)} is not a string`);
  // With the u flag this class matches only unpaired surrogates, which UTF-8 cannot represent.
  if (/[\uD800-\uDFFF]/u.test(text)) throw new PngError(`PNG: itxt value for keyword ${JSON.stringify(keyword)} contains an unpaired surrogate`);
  return makeChunk('iTXt', Buffer.concat([Buffer.from(`${keyword}\0\0\0\0\0`, 'latin1'), Buffer.from(text, 'utf8')]));
}

/** The tEXt chunks, then the iTXt chunks (so an iTXt wins over a tEXt of the same keyword), ready to insert. */
export function encodeTextChunks(options: TextOptions): Uint8Array[] {
  return [
    ...Object.entries(options.text ?? {}).map(([k, v]) => textChunk(k, v)),
    ...Object.entries(options.itxt ?? {}).map(([k, v]) => itxtChunk(k, v)),
  ];
}
