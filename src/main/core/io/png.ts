/**
 * PNG reader and writer, written from the W3C PNG Specification (Second Edition, 2003; the
 * Third Edition keeps these rules). Section numbers in comments are those of the Second
 * Edition. Only node:zlib is used (for the deflate streams of §10).
 *
 * PNGs reach this module from users (drag and drop, CLI flags), so the reader treats every
 * byte as hostile: lengths are checked against the bytes that remain, every CRC is checked,
 * the chunk order of §5.6 is enforced, the pixel count is capped before anything is
 * allocated, and inflation is capped at exactly the size the header implies, so a malformed
 * file ends in an Error whose message starts with "PNG: " and names the problem.
 *
 * Decoded pixels are always 8-bit RGBA. 16-bit samples keep their high byte (v >> 8, what
 * libpng's png_set_strip_16 does; round(v / 257) would differ by at most 1). Samples of 1, 2
 * and 4 bits are scaled to 8 bits exactly (v * 255 / (2^depth - 1)).
 */
import { constants as bufferConstants } from 'node:buffer';
import { deflateSync, inflateSync } from 'node:zlib';

/** A PNG that cannot be read or an image that cannot be encoded; every failure of this module. */
export class PngError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PngError';
  }
}

export interface RgbImage {
  width: number;
  height: number;
  channels: 3;
  data: Uint8Array;
}

export interface RgbaImage {
  width: number;
  height: number;
  channels: 4;
  data: Uint8Array;
}

export interface EncodeOptions {
  /** tEXt chunks: Latin-1 keyword (1..79 chars) and Latin-1 text. */
  text?: Record<string, string>;
  /** iTXt chunks: Latin-1 keyword and UTF-8 text, stored uncompressed. */
  itxt?: Record<string, string>;
}

export interface DecodeLimits {
  /** Largest width * height accepted; defaults to DEFAULT_MAX_PIXELS. */
  maxPixels?: number;
}

export interface DecodedPng {
  width: number;
  height: number;
  /** 8-bit RGBA, row-major, always 4 channels. */
  data: Uint8Array;
  /** tEXt, zTXt (inflated) and iTXt (compressed or not); a later chunk wins on a repeated keyword. */
  text: Record<string, string>;
  sourceColorType: number;
  sourceBitDepth: number;
}

export interface ChunkInfo {
  type: string;
  length: number;
  crcOk: boolean;
}

/** 64 Mi pixels: 256 MiB of RGBA output, the most a drag-and-drop import should cost. */
export const DEFAULT_MAX_PIXELS = 64 * 1024 * 1024;

/** Total inflated size of all zTXt/compressed iTXt chunks of one file, against text bombs. */
export const MAX_TEXT_BYTES = 16 * 1024 * 1024;

const SIGNATURE = Uint8Array.of(137, 80, 78, 71, 13, 10, 26, 10);
const MAX_UINT31 = 0x7fffffff;

// ---------------------------------------------------------------------------------------
// CRC-32 (§5.5): polynomial 0xEDB88320 (reflected), register preset to all ones and
// complemented at the end; computed over the chunk type and data, not the length.

const CRC_TABLE = makeCrcTable();

function makeCrcTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

/** CRC-32 of bytes[start, end) as an unsigned 32-bit number. */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// ---------------------------------------------------------------------------------------
// Small byte helpers. PNG integers are big-endian (§7.1).

function readU32(bytes: Uint8Array, pos: number): number {
  return ((bytes[pos] << 24) >>> 0) + (bytes[pos + 1] << 16) + (bytes[pos + 2] << 8) + bytes[pos + 3];
}

function writeU32(bytes: Uint8Array, pos: number, value: number): void {
  bytes[pos] = value >>> 24;
  bytes[pos + 1] = (value >>> 16) & 0xff;
  bytes[pos + 2] = (value >>> 8) & 0xff;
  bytes[pos + 3] = value & 0xff;
}

function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/** ISO 8859-1 bytes to a string. Node's 'latin1' maps byte n to U+00nn; TextDecoder('latin1') would be windows-1252. */
function latin1ToString(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
}

function hex(value: number, digits: number): string {
  return value.toString(16).toUpperCase().padStart(digits, '0');
}

/** Own enumerable property even for keys such as "__proto__", which plain assignment would drop. */
function setEntry(record: Record<string, string>, key: string, value: string): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}

// ---------------------------------------------------------------------------------------
// Colour types and bit depths (§11.2.2, Table 11.1).

const ALLOWED_DEPTHS: Record<number, readonly number[]> = {
  0: [1, 2, 4, 8, 16], // greyscale
  2: [8, 16], // truecolour
  3: [1, 2, 4, 8], // indexed-colour
  4: [8, 16], // greyscale with alpha
  6: [8, 16], // truecolour with alpha
};

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

interface Header {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  interlace: number;
}

// ---------------------------------------------------------------------------------------
// Chunk layer (§5.2-§5.4).

interface RawChunk {
  type: string;
  /** Byte offset of the chunk's length field in the file, for error messages. */
  offset: number;
  data: Uint8Array;
  crcOk: boolean;
}

function checkSignature(bytes: unknown): asserts bytes is Uint8Array {
  if (!(bytes instanceof Uint8Array)) throw new PngError('PNG: input is not a Uint8Array');
  if (bytes.length < SIGNATURE.length) throw new PngError('PNG: not a PNG file (bad signature)');
  for (let i = 0; i < SIGNATURE.length; i++) {
    if (bytes[i] !== SIGNATURE[i]) {
      // §5.2: the signature's CR LF, SUB and LF bytes exist to detect text-mode transfers.
      const looksLikePng = i >= 4; // "\x89PNG" intact, only the CR LF SUB LF part damaged
      throw new PngError(looksLikePng ? 'PNG: not a PNG file (bad signature; damaged by a text-mode transfer?)' : 'PNG: not a PNG file (bad signature)');
    }
  }
}

/** §5.4: each of the four type bytes is an ASCII letter. */
function chunkTypeAt(bytes: Uint8Array, pos: number): string {
  let name = '';
  for (let i = 0; i < 4; i++) {
    const b = bytes[pos + i];
    const letter = (b >= 65 && b <= 90) || (b >= 97 && b <= 122);
    if (!letter) throw new PngError(`PNG: invalid chunk type 0x${hex(readU32(bytes, pos), 8)} at byte ${pos - 4}`);
    name += String.fromCharCode(b);
  }
  return name;
}

/**
 * Walks the chunks after the signature (§5.3), stopping after IEND or at the end of the
 * bytes. Throws on anything that makes the next chunk boundary unknowable; reports CRCs.
 */
function* walkChunks(bytes: Uint8Array): Generator<RawChunk> {
  let pos = SIGNATURE.length;
  while (pos < bytes.length) {
    if (bytes.length - pos < 8) throw new PngError(`PNG: truncated chunk header at byte ${pos}`);
    const length = readU32(bytes, pos);
    const type = chunkTypeAt(bytes, pos + 4);
    if (length > MAX_UINT31) throw new PngError(`PNG: chunk ${type} at byte ${pos} declares length ${length}, more than 2^31-1`);
    const remaining = bytes.length - pos - 12;
    if (length > remaining) {
      throw new PngError(`PNG: truncated chunk ${type} at byte ${pos} (declares ${length} data bytes, ${Math.max(0, remaining)} present before the CRC)`);
    }
    const end = pos + 8 + length;
    const crcOk = crc32(bytes, pos + 4, end) === readU32(bytes, end);
    yield { type, offset: pos, data: bytes.subarray(pos + 8, end), crcOk };
    pos = end + 4;
    if (type === 'IEND') return; // §5.6: IEND is last; anything after it is not PNG data.
  }
}

/** Lists the chunks with their CRC status, without judging them: for tests and diagnostics. */
export function listChunks(bytes: Uint8Array): ChunkInfo[] {
  checkSignature(bytes);
  const out: ChunkInfo[] = [];
  for (const c of walkChunks(bytes)) out.push({ type: c.type, length: c.data.length, crcOk: c.crcOk });
  return out;
}

// ---------------------------------------------------------------------------------------
// Datastream structure (§5.6 chunk ordering, §11.2 critical chunks, §11.3.2.1 tRNS).

/** §5.6 makes the IDAT chunks consecutive, so where they start and how much they hold suffices. */
interface IdatRun {
  offset: number;
  count: number;
  bytes: number;
}

interface PngStructure {
  header: Header;
  palette?: Uint8Array;
  trns?: Uint8Array;
  idat: IdatRun;
  textChunks: RawChunk[];
}

/**
 * Most text chunks one file may carry. Chunks are kept only when needed (IDAT as a byte range,
 * text as views), so that a file of millions of tiny chunks costs no more than its own size.
 */
export const MAX_TEXT_CHUNKS = 4096;

/** §11.2.2: 13 bytes; sizes 1..2^31-1; Table 11.1 depths; methods 0 (and interlace 0/1). */
function parseHeader(chunk: RawChunk): Header {
  const d = chunk.data;
  if (d.length !== 13) throw new PngError(`PNG: IHDR chunk has length ${d.length}, expected 13`);
  const width = readU32(d, 0);
  const height = readU32(d, 4);
  if (width === 0 || width > MAX_UINT31) throw new PngError(`PNG: invalid image width ${width} (must be 1 to 2^31-1)`);
  if (height === 0 || height > MAX_UINT31) throw new PngError(`PNG: invalid image height ${height} (must be 1 to 2^31-1)`);
  const [bitDepth, colorType, compression, filter, interlace] = d.subarray(8);
  const depths = ALLOWED_DEPTHS[colorType];
  if (!depths) throw new PngError(`PNG: invalid colour type ${colorType}`);
  if (!depths.includes(bitDepth)) {
    throw new PngError(`PNG: unsupported bit depth ${bitDepth} for colour type ${colorType} (allowed: ${depths.join(', ')})`);
  }
  if (compression !== 0) throw new PngError(`PNG: unknown compression method ${compression} (only 0 is defined)`);
  if (filter !== 0) throw new PngError(`PNG: unknown filter method ${filter} (only 0 is defined)`);
  if (interlace > 1) throw new PngError(`PNG: unknown interlace method ${interlace} (0 or 1 are defined)`);
  return { width, height, bitDepth, colorType, interlace };
}

/** §11.2.3: 1..256 RGB entries; forbidden for greyscale; for type 3 at most 2^depth entries. */
function parsePalette(chunk: RawChunk, header: Header): Uint8Array {
  const { colorType, bitDepth } = header;
  if (colorType === 0 || colorType === 4) throw new PngError(`PNG: PLTE chunk is not allowed for colour type ${colorType}`);
  const n = chunk.data.length;
  if (n === 0 || n % 3 !== 0 || n > 768) throw new PngError(`PNG: PLTE chunk has length ${n} (must be a multiple of 3, 3 to 768)`);
  if (colorType === 3 && n / 3 > 1 << bitDepth) {
    throw new PngError(`PNG: PLTE chunk has ${n / 3} entries, more than bit depth ${bitDepth} can index`);
  }
  return chunk.data;
}

/** §11.3.2.1: tRNS length per colour type; forbidden where an alpha channel exists. */
function checkTransparency(trns: Uint8Array, header: Header, palette: Uint8Array | undefined): void {
  const t = header.colorType;
  if (t === 4 || t === 6) throw new PngError(`PNG: tRNS chunk is not allowed for colour type ${t} (it has an alpha channel)`);
  if (t === 0 && trns.length !== 2) throw new PngError(`PNG: tRNS chunk has length ${trns.length}, expected 2 for greyscale`);
  if (t === 2 && trns.length !== 6) throw new PngError(`PNG: tRNS chunk has length ${trns.length}, expected 6 for truecolour`);
  if (t === 3 && palette && trns.length > palette.length / 3) {
    throw new PngError(`PNG: tRNS chunk has ${trns.length} entries, more than the ${palette.length / 3} palette entries`);
  }
}

function isCritical(type: string): boolean {
  return (type.charCodeAt(0) & 0x20) === 0; // §5.4: uppercase first letter
}

type IdatState = 'before' | 'inside' | 'after';

/** Applies one chunk after IHDR to the structure, enforcing the ordering rules of §5.6. */
function addChunk(s: PngStructure, c: RawChunk, idat: IdatState): void {
  const where = `at byte ${c.offset}`;
  switch (c.type) {
    case 'IHDR':
      throw new PngError(`PNG: second IHDR chunk ${where}`);
    case 'PLTE':
      if (s.palette) throw new PngError(`PNG: second PLTE chunk ${where}`);
      if (idat !== 'before') throw new PngError(`PNG: PLTE chunk ${where} comes after IDAT`);
      if (s.trns) throw new PngError(`PNG: PLTE chunk ${where} comes after tRNS`);
      s.palette = parsePalette(c, s.header);
      return;
    case 'tRNS':
      if (s.trns) throw new PngError(`PNG: second tRNS chunk ${where}`);
      if (idat !== 'before') throw new PngError(`PNG: tRNS chunk ${where} comes after IDAT`);
      checkTransparency(c.data, s.header, s.palette);
      if (s.header.colorType === 3 && !s.palette) throw new PngError(`PNG: tRNS chunk ${where} comes before PLTE`);
      s.trns = c.data;
      return;
    case 'IDAT':
      if (idat === 'after') throw new PngError(`PNG: IDAT chunks are not consecutive (IDAT ${where} follows another chunk)`);
      if (s.idat.count === 0) s.idat.offset = c.offset;
      s.idat.count++;
      s.idat.bytes += c.data.length;
      return;
    case 'IEND':
      if (c.data.length !== 0) throw new PngError(`PNG: IEND chunk has ${c.data.length} data bytes, expected 0`);
      return;
    case 'tEXt':
    case 'zTXt':
    case 'iTXt':
      if (s.textChunks.length >= MAX_TEXT_CHUNKS) throw new PngError(`PNG: more than ${MAX_TEXT_CHUNKS} text chunks`);
      s.textChunks.push(c);
      return;
    default:
      // §5.4: a decoder that meets an unknown critical chunk cannot show the image correctly.
      if (isCritical(c.type)) throw new PngError(`PNG: unknown critical chunk ${c.type} ${where}`);
  }
}

/**
 * Reads the whole chunk sequence: CRC of every chunk (§5.5), IHDR first, the ordering rules of
 * §5.6, IEND last, and the chunks every image needs. Chunks are handled as they are walked.
 */
function parseStructure(bytes: Uint8Array): PngStructure {
  checkSignature(bytes);
  let s: PngStructure | undefined;
  let idat: IdatState = 'before';
  let ended = false;
  for (const c of walkChunks(bytes)) {
    if (!c.crcOk) throw new PngError(`PNG: CRC mismatch in chunk ${c.type} at byte ${c.offset}`);
    if (!s) {
      if (c.type !== 'IHDR') throw new PngError(`PNG: first chunk is ${c.type}, expected IHDR`);
      s = { header: parseHeader(c), idat: { offset: -1, count: 0, bytes: 0 }, textChunks: [] };
      continue;
    }
    if (idat === 'inside' && c.type !== 'IDAT') idat = 'after';
    addChunk(s, c, idat);
    if (c.type === 'IDAT') idat = 'inside';
    ended = c.type === 'IEND';
  }
  if (!s) throw new PngError('PNG: file ends after the signature (no IHDR chunk)');
  if (!ended) throw new PngError('PNG: missing IEND chunk (file truncated?)');
  if (s.idat.count === 0) throw new PngError('PNG: no IDAT chunk (image data missing)');
  if (s.header.colorType === 3 && !s.palette) throw new PngError('PNG: colour type 3 (indexed) requires a PLTE chunk');
  return s;
}

// ---------------------------------------------------------------------------------------
// Text chunks (§11.3.4).

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

interface TextEntry {
  keyword: string;
  text: string;
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

/** §11.3.4.4 zTXt: keyword NUL method(0) zlib-stream. */
function decodeZtxt(c: RawChunk, budget: number): TextEntry & { inflated: number } {
  const { keyword, rest } = splitKeyword(c);
  if (rest.length < 1) throw new PngError(`PNG: truncated chunk zTXt at byte ${c.offset} (no compression method)`);
  if (rest[0] !== 0) throw new PngError(`PNG: zTXt chunk at byte ${c.offset} has unknown compression method ${rest[0]}`);
  const raw = inflateText(c, rest.subarray(1), budget);
  return { keyword, text: latin1Text(c, raw), inflated: raw.length };
}

/** §11.3.4.5 iTXt: keyword NUL flag method language NUL translated-keyword NUL text. */
function decodeItxt(c: RawChunk, budget: number): TextEntry & { inflated: number } {
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
  const text = decodeUtf8(raw, `text of iTXt chunk at byte ${c.offset}`);
  return { keyword, text, inflated: flag === 1 ? raw.length : 0 };
}

/** All text chunks into one record; inflated bytes across the file share MAX_TEXT_BYTES. */
function decodeTextChunks(chunks: readonly RawChunk[]): Record<string, string> {
  const out: Record<string, string> = {};
  let budget = MAX_TEXT_BYTES;
  for (const c of chunks) {
    if (c.type === 'tEXt') {
      const { keyword, rest } = splitKeyword(c);
      setEntry(out, keyword, latin1Text(c, rest));
      continue;
    }
    const entry = c.type === 'zTXt' ? decodeZtxt(c, budget) : decodeItxt(c, budget);
    budget -= entry.inflated;
    setEntry(out, entry.keyword, entry.text);
  }
  return out;
}

/** Reads only the text chunks (tEXt, zTXt, iTXt), after the same structural checks as decodePng. */
export function readPngText(bytes: Uint8Array): Record<string, string> {
  return decodeTextChunks(parseStructure(bytes).textChunks);
}

// ---------------------------------------------------------------------------------------
// Image layout: passes (§8.2 Adam7) and scanlines (§7.2).

interface Pass {
  x0: number;
  y0: number;
  dx: number;
  dy: number;
  width: number;
  height: number;
  /** Bytes of one scanline without its filter-type byte. */
  rowBytes: number;
  /** Offset of the pass's first filter-type byte in the inflated data. */
  offset: number;
}

/** Adam7 pass origins and steps (§8.2). */
const ADAM7: readonly (readonly [number, number, number, number])[] = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

function bitsPerPixel(h: Header): number {
  return CHANNELS[h.colorType] * h.bitDepth;
}

/** Passes and total inflated size. §8.2: an empty pass (no columns or rows) has no scanlines at all. */
function layoutPasses(h: Header): { passes: Pass[]; totalBytes: number } {
  const origins = h.interlace === 1 ? ADAM7 : [[0, 0, 1, 1] as const];
  const bits = bitsPerPixel(h);
  const passes: Pass[] = [];
  let offset = 0;
  for (const [x0, y0, dx, dy] of origins) {
    const width = h.width > x0 ? Math.ceil((h.width - x0) / dx) : 0;
    const height = h.height > y0 ? Math.ceil((h.height - y0) / dy) : 0;
    if (width === 0 || height === 0) continue;
    const rowBytes = Math.ceil((width * bits) / 8);
    passes.push({ x0, y0, dx, dy, width, height, rowBytes, offset });
    offset += height * (rowBytes + 1);
  }
  return { passes, totalBytes: offset };
}

function checkedMaxPixels(value: number | undefined): number {
  if (value === undefined) return DEFAULT_MAX_PIXELS;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 1) throw new PngError(`PNG: maxPixels must be a number >= 1 (got ${String(value)})`);
  return value;
}

/** Refuses before any allocation: the header alone fixes every buffer size. */
function checkSize(h: Header, maxPixels: number, totalBytes: number): void {
  const pixels = h.width * h.height;
  if (pixels > maxPixels) {
    throw new PngError(`PNG: image is ${h.width} x ${h.height} = ${pixels} pixels, more than the limit of ${maxPixels} (maxPixels)`);
  }
  const limit = Math.min(bufferConstants.MAX_LENGTH, Number.MAX_SAFE_INTEGER);
  if (pixels * 4 > limit || totalBytes > limit) throw new PngError(`PNG: image of ${h.width} x ${h.height} is too large to decode in memory`);
}

/** The data of the consecutive IDAT chunks, joined (already validated by parseStructure). */
function gatherIdat(bytes: Uint8Array, run: IdatRun): Uint8Array {
  if (run.count === 1) return bytes.subarray(run.offset + 8, run.offset + 8 + run.bytes);
  const out = new Uint8Array(run.bytes);
  for (let i = 0, pos = run.offset, o = 0; i < run.count; i++) {
    const length = readU32(bytes, pos);
    out.set(bytes.subarray(pos + 8, pos + 8 + length), o);
    o += length;
    pos += 12 + length;
  }
  return out;
}

/** §10.2: the IDAT payloads form one zlib stream; inflation stops at the expected size. */
function inflateImageData(compressed: Uint8Array, expected: number): Uint8Array {
  let raw: Uint8Array;
  try {
    raw = inflateSync(compressed, { maxOutputLength: expected });
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new PngError(`PNG: image data inflates to more than the expected ${expected} bytes`);
    }
    throw new PngError(`PNG: corrupt zlib data in IDAT (${(e as Error).message})`);
  }
  if (raw.length !== expected) throw new PngError(`PNG: image data inflates to ${raw.length} bytes, expected ${expected}`);
  return raw;
}

// ---------------------------------------------------------------------------------------
// Filtering (§9.2-§9.4). "a" is the byte bpp to the left, "b" the byte above, "c" above-left.

/** §9.4: the predictor closest to a + b - c, ties broken in the order a, b, c. */
function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

/** Reverses one pass's filters in place. The previous scanline of the first row is all zero (§9.2). */
function unfilterPass(raw: Uint8Array, pass: Pass, bpp: number, passIndex: number, interlaced: boolean): void {
  const stride = pass.rowBytes + 1;
  for (let y = 0; y < pass.height; y++) {
    const start = pass.offset + y * stride;
    const filter = raw[start];
    const cur = start + 1;
    const prev = y > 0 ? cur - stride : -1;
    if (filter > 4) {
      const where = interlaced ? `row ${y} of interlace pass ${passIndex + 1}` : `row ${y}`;
      throw new PngError(`PNG: invalid filter type ${filter} in ${where}`);
    }
    unfilterRow(raw, filter, cur, prev, pass.rowBytes, bpp);
  }
}

function unfilterRow(r: Uint8Array, filter: number, cur: number, prev: number, n: number, bpp: number): void {
  switch (filter) {
    case 1: // Sub
      for (let i = bpp; i < n; i++) r[cur + i] = (r[cur + i] + r[cur + i - bpp]) & 0xff;
      return;
    case 2: // Up
      if (prev >= 0) for (let i = 0; i < n; i++) r[cur + i] = (r[cur + i] + r[prev + i]) & 0xff;
      return;
    case 3: // Average
      for (let i = 0; i < n; i++) {
        const a = i >= bpp ? r[cur + i - bpp] : 0;
        const b = prev >= 0 ? r[prev + i] : 0;
        r[cur + i] = (r[cur + i] + ((a + b) >> 1)) & 0xff;
      }
      return;
    case 4: // Paeth
      for (let i = 0; i < n; i++) {
        const a = i >= bpp ? r[cur + i - bpp] : 0;
        const b = prev >= 0 ? r[prev + i] : 0;
        const c = prev >= 0 && i >= bpp ? r[prev + i - bpp] : 0;
        r[cur + i] = (r[cur + i] + paeth(a, b, c)) & 0xff;
      }
      return;
    default: // None
  }
}

// ---------------------------------------------------------------------------------------
// Samples to RGBA.

/** Unpacks one scanline into samples. §7.2: sub-byte pixels are packed from the high-order bits. */
function unpackRow(raw: Uint8Array, start: number, out: Uint16Array, count: number, depth: number): void {
  if (depth === 8) {
    for (let i = 0; i < count; i++) out[i] = raw[start + i];
  } else if (depth === 16) {
    for (let i = 0; i < count; i++) out[i] = (raw[start + 2 * i] << 8) | raw[start + 2 * i + 1];
  } else {
    const mask = (1 << depth) - 1;
    for (let i = 0; i < count; i++) {
      const bit = i * depth;
      out[i] = (raw[start + (bit >> 3)] >> (8 - depth - (bit & 7))) & mask;
    }
  }
}

/** Everything needed to turn samples into RGBA, fixed once per image. */
interface Colours {
  colorType: number;
  to8: (v: number) => number;
  /** Greyscale/truecolour tRNS key, compared with the unscaled samples (§11.3.2.1). */
  key?: number[];
  /** Indexed colour: 256 RGBA entries and how many of them the palette defines. */
  lut?: Uint8Array;
  paletteSize?: number;
}

function makeColours(s: PngStructure): Colours {
  const { colorType, bitDepth } = s.header;
  // Sample depth rescaling: 1/2/4-bit by exact multiplication, 16-bit by the high byte.
  const scale = 255 / ((1 << bitDepth) - 1);
  const to8 = bitDepth === 16 ? (v: number) => v >>> 8 : (v: number) => v * scale;
  const colours: Colours = { colorType, to8 };
  if (s.trns && colorType === 0) colours.key = [(s.trns[0] << 8) | s.trns[1]];
  if (s.trns && colorType === 2) colours.key = [0, 2, 4].map((i) => (s.trns![i] << 8) | s.trns![i + 1]);
  if (colorType === 3 && s.palette) {
    const lut = new Uint8Array(256 * 4);
    const size = s.palette.length / 3;
    for (let i = 0; i < size; i++) {
      lut.set(s.palette.subarray(3 * i, 3 * i + 3), 4 * i);
      lut[4 * i + 3] = s.trns && i < s.trns.length ? s.trns[i] : 255; // §11.3.2.1: missing entries are opaque
    }
    colours.lut = lut;
    colours.paletteSize = size;
  }
  return colours;
}

/** Writes one unpacked scanline into the RGBA output, starting at byte o, step bytes apart. */
function putRow(samples: Uint16Array, width: number, c: Colours, out: Uint8Array, o: number, step: number, rowLabel: () => string): void {
  const { to8, key } = c;
  for (let x = 0; x < width; x++, o += step) {
    switch (c.colorType) {
      case 0: {
        const v = samples[x];
        out[o] = out[o + 1] = out[o + 2] = to8(v);
        out[o + 3] = key && v === key[0] ? 0 : 255;
        break;
      }
      case 2: {
        const r = samples[3 * x], g = samples[3 * x + 1], b = samples[3 * x + 2];
        out[o] = to8(r);
        out[o + 1] = to8(g);
        out[o + 2] = to8(b);
        out[o + 3] = key && r === key[0] && g === key[1] && b === key[2] ? 0 : 255;
        break;
      }
      case 3: {
        const index = samples[x];
        if (index >= c.paletteSize!) {
          throw new PngError(`PNG: palette index ${index} out of range (palette has ${c.paletteSize} entries) at pixel ${x} of ${rowLabel()}`);
        }
        out.set(c.lut!.subarray(4 * index, 4 * index + 4), o);
        break;
      }
      case 4: {
        out[o] = out[o + 1] = out[o + 2] = to8(samples[2 * x]);
        out[o + 3] = to8(samples[2 * x + 1]);
        break;
      }
      default: {
        for (let k = 0; k < 4; k++) out[o + k] = to8(samples[4 * x + k]);
      }
    }
  }
}

function writePass(raw: Uint8Array, pass: Pass, h: Header, c: Colours, out: Uint8Array, passIndex: number): void {
  const samples = new Uint16Array(pass.width * CHANNELS[h.colorType]);
  const copyRows = h.colorType === 6 && h.bitDepth === 8 && pass.dx === 1; // already RGBA in output order
  for (let y = 0; y < pass.height; y++) {
    const start = pass.offset + y * (pass.rowBytes + 1) + 1;
    const o = ((pass.y0 + y * pass.dy) * h.width + pass.x0) * 4;
    if (copyRows) {
      out.set(raw.subarray(start, start + pass.rowBytes), o);
      continue;
    }
    unpackRow(raw, start, samples, samples.length, h.bitDepth);
    const label = () => (h.interlace ? `row ${y} of interlace pass ${passIndex + 1}` : `row ${y}`);
    putRow(samples, pass.width, c, out, o, pass.dx * 4, label);
  }
}

/**
 * Decodes a PNG into 8-bit RGBA. Throws an Error starting with "PNG: " on any malformed
 * input, and before allocating anything for an image of more than limits.maxPixels pixels.
 */
export function decodePng(bytes: Uint8Array, limits: DecodeLimits = {}): DecodedPng {
  const maxPixels = checkedMaxPixels(limits.maxPixels);
  const png = parseStructure(bytes);
  const h = png.header;
  const { passes, totalBytes } = layoutPasses(h);
  checkSize(h, maxPixels, totalBytes);
  const text = decodeTextChunks(png.textChunks);
  const raw = inflateImageData(gatherIdat(bytes, png.idat), totalBytes);
  const colours = makeColours(png);
  const bpp = Math.max(1, bitsPerPixel(h) >> 3); // §9.2: filter unit, at least one byte
  const data = new Uint8Array(h.width * h.height * 4);
  passes.forEach((pass, i) => {
    unfilterPass(raw, pass, bpp, i, h.interlace === 1);
    writePass(raw, pass, h, colours, data, i);
  });
  return { width: h.width, height: h.height, data, text, sourceColorType: h.colorType, sourceBitDepth: h.bitDepth };
}

// ---------------------------------------------------------------------------------------
// Encoder.

function makeChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  writeU32(out, 0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  writeU32(out, 8 + data.length, crc32(out, 4, 8 + data.length));
  return out;
}

function checkImage(image: RgbImage | RgbaImage): void {
  const { width, height, channels, data } = image;
  for (const [name, v] of [['width', width], ['height', height]] as const) {
    if (!Number.isInteger(v) || v < 1 || v > MAX_UINT31) throw new PngError(`PNG: cannot encode ${name} ${v} (must be an integer 1 to 2^31-1)`);
  }
  if (channels !== 3 && channels !== 4) throw new PngError(`PNG: cannot encode ${String(channels)} channels (3 or 4)`);
  if (!(data instanceof Uint8Array)) throw new PngError('PNG: image data must be a Uint8Array');
  if (data.length !== width * height * channels) {
    throw new PngError(`PNG: image data has ${data.length} bytes, expected ${width} x ${height} x ${channels} = ${width * height * channels}`);
  }
}

function checkKeyword(keyword: string, option: string): void {
  const problem = keywordProblem(keyword);
  if (problem) throw new PngError(`PNG: ${option} keyword ${JSON.stringify(keyword)} ${problem}`);
}

/** §11.3.4.3 tEXt: keyword NUL text, both Latin-1, no NUL in the text. */
function textChunkData(keyword: string, text: string): Uint8Array {
  checkKeyword(keyword, 'text');
  if (typeof text !== 'string') throw new PngError(`PNG: text value for keyword ${JSON.stringify(keyword)} is not a string`);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) {
      throw new PngError(`PNG: text value for keyword ${JSON.stringify(keyword)} is not Latin-1 (U+${hex(c, 4)} at index ${i}); pass it in the itxt option, which stores UTF-8`);
    }
    if (c === 0) throw new PngError(`PNG: text value for keyword ${JSON.stringify(keyword)} contains NUL`);
  }
  return Buffer.from(`${keyword}\0${text}`, 'latin1');
}

/** §11.3.4.5 iTXt, uncompressed: keyword NUL 0 0 (empty language tag) NUL (empty translated keyword) NUL UTF-8 text. */
function itxtChunkData(keyword: string, text: string): Uint8Array {
  checkKeyword(keyword, 'itxt');
  if (typeof text !== 'string') throw new PngError(`PNG: itxt value for keyword ${JSON.stringify(keyword)} is not a string`);
  // With the u flag this class matches only unpaired surrogates, which UTF-8 cannot represent.
  if (/[\uD800-\uDFFF]/u.test(text)) throw new PngError(`PNG: itxt value for keyword ${JSON.stringify(keyword)} contains an unpaired surrogate`);
  const head = Buffer.from(`${keyword}\0\0\0\0\0`, 'latin1');
  return concatBytes([head, Buffer.from(text, 'utf8')]);
}

function filterRow(type: number, cur: Uint8Array, prev: Uint8Array, bpp: number, out: Uint8Array): void {
  const n = cur.length;
  switch (type) {
    case 0:
      out.set(cur);
      return;
    case 1:
      for (let i = 0; i < n; i++) out[i] = cur[i] - (i >= bpp ? cur[i - bpp] : 0);
      return;
    case 2:
      for (let i = 0; i < n; i++) out[i] = cur[i] - prev[i];
      return;
    case 3:
      for (let i = 0; i < n; i++) out[i] = cur[i] - (((i >= bpp ? cur[i - bpp] : 0) + prev[i]) >> 1);
      return;
    default:
      for (let i = 0; i < n; i++) {
        out[i] = cur[i] - (i >= bpp ? paeth(cur[i - bpp], prev[i], prev[i - bpp]) : paeth(0, prev[i], 0));
      }
  }
}

/** Sum of the filtered bytes read as signed values (§12.8). */
function signedSum(row: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += row[i] < 128 ? row[i] : 256 - row[i];
  return sum;
}

/**
 * §12.8 filter selection: for each row, every filter type is tried and the one with the
 * smallest sum of absolute (signed) differences wins; a cheap estimate of what deflates best.
 */
function filterScanlines(image: RgbImage | RgbaImage): Uint8Array {
  const { width, height, channels, data } = image;
  const rowBytes = width * channels;
  const out = new Uint8Array(height * (rowBytes + 1));
  const candidates = [0, 1, 2, 3, 4].map(() => new Uint8Array(rowBytes));
  let prev: Uint8Array = new Uint8Array(rowBytes);
  for (let y = 0; y < height; y++) {
    const cur = data.subarray(y * rowBytes, (y + 1) * rowBytes);
    let best = 0;
    let bestSum = Infinity;
    for (let type = 0; type < 5; type++) {
      filterRow(type, cur, prev, channels, candidates[type]);
      const sum = signedSum(candidates[type]);
      if (sum < bestSum) [best, bestSum] = [type, sum];
    }
    out[y * (rowBytes + 1)] = best;
    out.set(candidates[best], y * (rowBytes + 1) + 1);
    prev = cur;
  }
  return out;
}

/**
 * Encodes 8-bit RGB or RGBA as a non-interlaced PNG: IHDR, tEXt and iTXt chunks, one IDAT,
 * IEND. Throws "PNG: ..." for an inconsistent image or text that cannot be stored.
 */
export function encodePng(image: RgbImage | RgbaImage, options: EncodeOptions = {}): Uint8Array {
  checkImage(image);
  const ihdr = new Uint8Array(13);
  writeU32(ihdr, 0, image.width);
  writeU32(ihdr, 4, image.height);
  ihdr.set([8, image.channels === 4 ? 6 : 2, 0, 0, 0], 8); // depth 8, colour type, methods 0, no interlace
  const parts = [SIGNATURE, makeChunk('IHDR', ihdr)];
  for (const [k, v] of Object.entries(options.text ?? {})) parts.push(makeChunk('tEXt', textChunkData(k, v)));
  for (const [k, v] of Object.entries(options.itxt ?? {})) parts.push(makeChunk('iTXt', itxtChunkData(k, v)));
  parts.push(makeChunk('IDAT', deflateSync(filterScanlines(image))));
  parts.push(makeChunk('IEND', new Uint8Array(0)));
  return concatBytes(parts);
}
