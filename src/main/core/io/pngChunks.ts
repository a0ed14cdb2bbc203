/**
 * Ours, not pngjs's: pngjs reads short or corrupt image data as black pixels without a word and trusts the header's sizes.
 *
 * So every PNG passes this chunk check before pngjs sees it: signature, chunk lengths and
 * CRCs, IHDR first and valid, the ordering rules, PLTE and tRNS sizes, IEND last, and the
 * sizes the header implies, checked before anything is allocated for them. Section numbers
 * are those of the W3C PNG Specification, Second Edition (the Third keeps these rules).
 */
import { constants as bufferConstants } from 'node:buffer';
import { crc32 as zlibCrc32 } from 'node:zlib';

/** A PNG that cannot be read or an image that cannot be encoded; every failure of the PNG modules. */
export class PngError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PngError';
  }
}

export interface ChunkInfo {
  type: string;
  length: number;
  crcOk: boolean;
}

/** One chunk as found in the file: its data is a view into the file's bytes. */
export interface RawChunk {
  type: string;
  /** Byte offset of the chunk's length field in the file, for error messages. */
  offset: number;
  data: Uint8Array;
  crcOk: boolean;
}

export interface Header {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  interlace: number;
}

/** §5.6 makes the IDAT chunks consecutive, so where they start and how much they hold suffices. */
export interface IdatRun {
  offset: number;
  count: number;
  bytes: number;
}

export interface PngStructure {
  header: Header;
  palette?: Uint8Array;
  trns?: Uint8Array;
  idat: IdatRun;
  textChunks: RawChunk[];
}

export const SIGNATURE = Uint8Array.of(137, 80, 78, 71, 13, 10, 26, 10);
export const MAX_UINT31 = 0x7fffffff;

/**
 * Most text chunks one file may carry. Chunks are kept only when needed (IDAT as a byte range,
 * text as views), so that a file of millions of tiny chunks costs no more than its own size.
 */
export const MAX_TEXT_CHUNKS = 4096;

/** §5.5 CRC-32 of bytes[start, end), unsigned. */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  return zlibCrc32(bytes.subarray(start, end)) >>> 0;
}

/** PNG integers are big-endian (§7.1). */
function readU32(bytes: Uint8Array, pos: number): number {
  return ((bytes[pos] << 24) >>> 0) + (bytes[pos + 1] << 16) + (bytes[pos + 2] << 8) + bytes[pos + 3];
}

export function hex(value: number, digits: number): string {
  return value.toString(16).toUpperCase().padStart(digits, '0');
}

/** Length, type, data and CRC (§5.3). */
export function makeChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out, 4, 8 + data.length));
  return out;
}

/**
 * A PNG's width and height from its IHDR, which §5.6 puts first, at fixed offsets: read
 * without walking or inflating anything, so an oversized image is refused before it is
 * decoded. Null when the bytes do not start like a PNG (the decoder then says what is wrong).
 */
export function pngDimensions(bytes: Uint8Array): { width: number; height: number } | null {
  if (bytes.length < 24 || SIGNATURE.some((b, i) => bytes[i] !== b)) return null;
  if (readU32(bytes, 8) !== 13 || String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') return null;
  return { width: readU32(bytes, 16), height: readU32(bytes, 20) };
}

function checkSignature(bytes: unknown): asserts bytes is Uint8Array {
  if (!(bytes instanceof Uint8Array)) throw new PngError('PNG: input is not a Uint8Array');
  if (bytes.length < SIGNATURE.length) throw new PngError('PNG: not a PNG file (bad signature)');
  const firstBad = SIGNATURE.findIndex((b, i) => bytes[i] !== b);
  if (firstBad < 0) return;
  // §5.2: the signature's CR LF, SUB and LF bytes exist to detect text-mode transfers.
  const textMode = firstBad >= 4; // "\x89PNG" intact, only the CR LF SUB LF part damaged
  throw new PngError(textMode ? 'PNG: not a PNG file (bad signature; damaged by a text-mode transfer?)' : 'PNG: not a PNG file (bad signature)');
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
  return Array.from(walkChunks(bytes), (c) => ({ type: c.type, length: c.data.length, crcOk: c.crcOk }));
}

// ---------------------------------------------------------------------------------------
// The critical chunks (§11.2) and the ordering rules (§5.6).

/** §11.2.2 Table 11.1: the bit depths each colour type allows. */
const ALLOWED_DEPTHS: Record<number, readonly number[]> = {
  0: [1, 2, 4, 8, 16], // greyscale
  2: [8, 16], // truecolour
  3: [1, 2, 4, 8], // indexed-colour
  4: [8, 16], // greyscale with alpha
  6: [8, 16], // truecolour with alpha
};

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

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
function checkPalette(plte: Uint8Array, { colorType, bitDepth }: Header): void {
  if (colorType === 0 || colorType === 4) throw new PngError(`PNG: PLTE chunk is not allowed for colour type ${colorType}`);
  const n = plte.length;
  if (n === 0 || n % 3 !== 0 || n > 768) throw new PngError(`PNG: PLTE chunk has length ${n} (must be a multiple of 3, 3 to 768)`);
  if (colorType === 3 && n / 3 > 1 << bitDepth) throw new PngError(`PNG: PLTE chunk has ${n / 3} entries, more than bit depth ${bitDepth} can index`);
}

/** §11.3.2.1: tRNS length per colour type; forbidden where an alpha channel exists. */
function checkTransparency(trns: Uint8Array, { colorType: t }: Header, palette: Uint8Array | undefined): void {
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
      checkPalette(c.data, s.header);
      s.palette = c.data;
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
 * Reads the whole chunk sequence: the CRC of every chunk (§5.5), IHDR first, the ordering
 * rules of §5.6, IEND last, and the chunks every image needs. Chunks are handled as walked.
 */
export function parseStructure(bytes: Uint8Array): PngStructure {
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
// What the header promises: the size of the image data once inflated, and whether that fits.

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

/**
 * Bytes of the inflated image data (§7.2 scanlines with their filter-type byte, per §8.2 pass;
 * an empty pass has no scanlines at all).
 */
export function inflatedSize(h: Header): number {
  const origins = h.interlace === 1 ? ADAM7 : [[0, 0, 1, 1] as const];
  const bitsPerPixel = CHANNELS[h.colorType] * h.bitDepth;
  let total = 0;
  for (const [x0, y0, dx, dy] of origins) {
    const width = h.width > x0 ? Math.ceil((h.width - x0) / dx) : 0;
    const height = h.height > y0 ? Math.ceil((h.height - y0) / dy) : 0;
    if (width > 0 && height > 0) total += height * (Math.ceil((width * bitsPerPixel) / 8) + 1);
  }
  return total;
}

/** Refuses from the header alone, before any pixel buffer exists. */
export function checkSize(h: Header, maxPixels: number): void {
  const pixels = h.width * h.height;
  if (pixels > maxPixels) {
    throw new PngError(`PNG: image is ${h.width} x ${h.height} = ${pixels} pixels, more than the limit of ${maxPixels} (maxPixels)`);
  }
  const limit = Math.min(bufferConstants.MAX_LENGTH, Number.MAX_SAFE_INTEGER);
  // pngjs holds 16-bit samples as 2 bytes each: 8 bytes per RGBA pixel at most.
  if (pixels * 8 > limit || inflatedSize(h) > limit) throw new PngError(`PNG: image of ${h.width} x ${h.height} is too large to decode in memory`);
}

/** The data of the consecutive IDAT chunks, joined (already validated by parseStructure). */
export function gatherIdat(bytes: Uint8Array, run: IdatRun): Uint8Array {
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
