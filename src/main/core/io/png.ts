/**
 * Ours only as glue: pngjs (npm) encodes and decodes the pixels; our chunk check (pngChunks.ts) goes before it, our text chunks (pngText.ts) around it.
 *
 * PNGs reach this module from users (drag and drop, CLI flags), so every file passes the
 * chunk check first: CRCs, chunk order, a pixel cap from the header before anything is
 * allocated, and the image data inflated once under the size the header implies (pngjs would
 * read short or corrupt data as black pixels). A malformed file ends in a PngError whose
 * message starts with "PNG: " and names the problem.
 *
 * Decoded pixels are always 8-bit RGBA. 16-bit samples keep their high byte (v >> 8, what
 * libpng's png_set_strip_16 does); samples of 1, 2 and 4 bits are scaled exactly
 * (v * 255 / (2^depth - 1)); a tRNS colour key makes a pixel transparent and keeps its colour.
 */
import { inflateSync } from 'node:zlib';
import { PNG, type PackerOptions } from 'pngjs';
import { type Header, type PngStructure, MAX_UINT31, PngError, SIGNATURE, checkSize, gatherIdat, inflatedSize, makeChunk, parseStructure } from './pngChunks';
import { type TextOptions, decodeTextChunks, encodeTextChunks } from './pngText';

export { type ChunkInfo, MAX_TEXT_CHUNKS, PngError, crc32, listChunks, pngDimensions } from './pngChunks';
export { MAX_TEXT_BYTES } from './pngText';

/** 8-bit RGBA pixels, row-major: data.length = width * height * 4. */
export interface RgbaPixels {
  width: number;
  height: number;
  data: Uint8Array;
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

export type EncodeOptions = TextOptions;

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

/** 64 Mi pixels: 256 MiB of RGBA output, the most a drag-and-drop import should cost. */
const DEFAULT_MAX_PIXELS = 64 * 1024 * 1024;

/**
 * Deflate level 4, default strategy, chosen by measurement (512x512 RGBA, bench:png's picture):
 * level 6 (zlib's default, what the hand-written encoder used) 110 ms and 394 KiB; level 4
 * 65 ms and 410 KiB; pngjs's own default (level 9, run-length strategy) 54 ms but 537 KiB,
 * a third more disk for every image a gallery keeps.
 */
const DEFLATE: PackerOptions = { deflateLevel: 4, deflateStrategy: 0 };

/** Length of the signature and the IHDR chunk (13 data bytes), which every PNG starts with (§5.6). */
const HEADER_BYTES = SIGNATURE.length + 12 + 13;

// ---------------------------------------------------------------------------------------
// Decoding.

function checkedMaxPixels(value: number | undefined): number {
  if (value === undefined) return DEFAULT_MAX_PIXELS;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 1) throw new PngError(`PNG: maxPixels must be a number >= 1 (got ${String(value)})`);
  return value;
}

/**
 * §10.2: the IDAT payloads form one zlib stream, which must inflate to exactly the size the
 * header implies; inflation stops there, so a zip bomb costs no more than a real image would.
 */
function checkImageData(compressed: Uint8Array, expected: number): void {
  let length: number;
  try {
    length = inflateSync(compressed, { maxOutputLength: expected }).length;
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw new PngError(`PNG: image data inflates to more than the expected ${expected} bytes`);
    throw new PngError(`PNG: corrupt zlib data in IDAT (${(e as Error).message})`);
  }
  if (length !== expected) throw new PngError(`PNG: image data inflates to ${length} bytes, expected ${expected}`);
}

/**
 * What pngjs is given: IHDR, PLTE and a palette's tRNS, the image data in one IDAT, IEND.
 * Ancillary chunks are left out, so that a file padded with thousands of them costs pngjs
 * nothing; so is a greyscale or truecolour tRNS key, which pngjs would apply by painting the
 * keyed pixels black (toRgba8 applies it instead, keeping their colour).
 */
function pixelsOnly(bytes: Uint8Array, png: PngStructure, idat: Uint8Array): Buffer {
  const parts = [bytes.subarray(0, HEADER_BYTES)];
  if (png.palette) parts.push(makeChunk('PLTE', png.palette));
  if (png.trns && png.header.colorType === 3) parts.push(makeChunk('tRNS', png.trns));
  parts.push(makeChunk('IDAT', idat), makeChunk('IEND', new Uint8Array(0)));
  return Buffer.concat(parts);
}

/** pngjs's messages for what only the pixels reveal, in this module's words. */
function pixelError(error: unknown, png: PngStructure): PngError {
  const message = error instanceof Error ? error.message : String(error);
  const filter = /filter type - (\d+)/i.exec(message);
  if (filter) return new PngError(`PNG: invalid filter type ${filter[1]} in the image data`);
  const index = /index (\d+) not in palette/.exec(message);
  if (index) return new PngError(`PNG: palette index ${index[1]} out of range (palette has ${(png.palette?.length ?? 0) / 3} entries)`);
  return new PngError(`PNG: cannot decode the image data (${message})`);
}

/** pngjs's RGBA samples, unscaled (1-, 2-, 4-bit values as they are, 16-bit ones in a Uint16Array), palettes applied. */
function decodeSamples(input: Buffer, png: PngStructure): Uint8Array | Uint16Array {
  try {
    return PNG.sync.read(input, { checkCRC: false, skipRescale: true }).data as unknown as Uint8Array | Uint16Array;
  } catch (error) {
    throw pixelError(error, png);
  }
}

/** §11.3.2.1: the tRNS colour key, in unscaled samples (one for greyscale, three for truecolour). */
function colourKey(png: PngStructure): number[] | undefined {
  const t = png.trns;
  if (!t || png.header.colorType === 3) return undefined;
  const key = [(t[0] << 8) | t[1]];
  if (png.header.colorType === 2) key.push((t[2] << 8) | t[3], (t[4] << 8) | t[5]);
  return key;
}

/** Unscaled RGBA samples to 8 bits, with the colour key (if any) made transparent. */
function toRgba8(samples: Uint8Array | Uint16Array, h: Header, key: number[] | undefined): Uint8Array {
  const paletted = h.colorType === 3; // pngjs gives palette colours, already 8-bit
  if ((h.bitDepth === 8 || paletted) && !key) return new Uint8Array(samples.buffer, samples.byteOffset, samples.length);
  const scale = 255 / ((1 << h.bitDepth) - 1);
  const to8 = h.bitDepth === 16 ? (v: number) => v >>> 8 : (v: number) => v * scale;
  const out = new Uint8Array(samples.length);
  for (let o = 0; o < samples.length; o += 4) {
    const r = samples[o], g = samples[o + 1], b = samples[o + 2];
    const keyed = key !== undefined && r === key[0] && (key.length === 1 || (g === key[1] && b === key[2]));
    out[o] = to8(r);
    out[o + 1] = to8(g);
    out[o + 2] = to8(b);
    out[o + 3] = keyed ? 0 : to8(samples[o + 3]);
  }
  return out;
}

/**
 * Decodes a PNG into 8-bit RGBA. Throws a PngError ("PNG: ...") on any malformed input, and
 * before allocating anything for an image of more than limits.maxPixels pixels.
 */
export function decodePng(bytes: Uint8Array, limits: DecodeLimits = {}): DecodedPng {
  const maxPixels = checkedMaxPixels(limits.maxPixels);
  const png = parseStructure(bytes);
  const h = png.header;
  checkSize(h, maxPixels);
  const text = decodeTextChunks(png.textChunks);
  const idat = gatherIdat(bytes, png.idat);
  checkImageData(idat, inflatedSize(h));
  const data = toRgba8(decodeSamples(pixelsOnly(bytes, png, idat), png), h, colourKey(png));
  return { width: h.width, height: h.height, data, text, sourceColorType: h.colorType, sourceBitDepth: h.bitDepth };
}

/** Reads only the text chunks (tEXt, zTXt, iTXt), after the same chunk checks as decodePng; pixels stay compressed. */
export function readPngText(bytes: Uint8Array): Record<string, string> {
  return decodeTextChunks(parseStructure(bytes).textChunks);
}

// ---------------------------------------------------------------------------------------
// Encoding.

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

/**
 * Encodes 8-bit RGB or RGBA as a non-interlaced PNG: IHDR, the tEXt and iTXt chunks of
 * `options`, one IDAT (pngjs: each row's filter chosen per §12.8), IEND. Throws a PngError
 * for an inconsistent image or text that cannot be stored, before any pixel is encoded.
 */
export function encodePng(image: RgbImage | RgbaImage, options: EncodeOptions = {}): Uint8Array {
  checkImage(image);
  const textChunks = encodeTextChunks(options);
  const colorType = image.channels === 4 ? 6 : 2;
  const pixels = { width: image.width, height: image.height, data: Buffer.from(image.data.buffer, image.data.byteOffset, image.data.length) } as PNG;
  const body = PNG.sync.write(pixels, { ...DEFLATE, colorType, inputColorType: colorType, inputHasAlpha: image.channels === 4, bitDepth: 8 });
  // Text chunks go right after IHDR (§5.6 allows them anywhere before IEND; readers that stop at IDAT still see them).
  return concatBytes([body.subarray(0, HEADER_BYTES), ...textChunks, body.subarray(HEADER_BYTES)]);
}

/** Into a fresh buffer of its own: Buffer.concat may hand out a slice of Node's shared pool, which a structured clone would copy whole. */
function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}
