import { readFileSync } from 'node:fs';
import { crc32 as zlibCrc32, deflateSync, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, decodePng, encodePng, listChunks, MAX_TEXT_CHUNKS, readPngText, type RgbaImage, type RgbImage } from './png';

const SAMPLES = new URL('./samples/png/', import.meta.url);
const SIGNATURE = Uint8Array.of(137, 80, 78, 71, 13, 10, 26, 10);

// ---------------------------------------------------------------------------------------
// Helpers. Test files are assembled with node:zlib's crc32 directly, not through the module.

type ChunkSpec = [type: string, data: Uint8Array];

function chunkBytes(type: string, data: Uint8Array, crc?: number): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const tail = Buffer.alloc(4);
  tail.writeUInt32BE(crc ?? zlibCrc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, tail]);
}

function buildPng(chunks: ChunkSpec[]): Uint8Array {
  return new Uint8Array(Buffer.concat([SIGNATURE, ...chunks.map(([t, d]) => chunkBytes(t, d))]));
}

function ihdr(width: number, height: number, depth: number, colorType: number, interlace = 0, compression = 0, filter = 0): ChunkSpec {
  const d = Buffer.alloc(13);
  d.writeUInt32BE(width, 0);
  d.writeUInt32BE(height, 4);
  d.set([depth, colorType, compression, filter, interlace], 8);
  return ['IHDR', d];
}

const iend: ChunkSpec = ['IEND', new Uint8Array(0)];

/** Filter type 0 scanlines of the given raw rows, deflated. */
function idat(rows: number[][]): ChunkSpec {
  return ['IDAT', deflateSync(Buffer.from(rows.flatMap((r) => [0, ...r])))];
}

/** Parses a PNG into [type, data] pairs (no checks), to rebuild it with changes. */
function splitPng(bytes: Uint8Array): ChunkSpec[] {
  const b = Buffer.from(bytes);
  const out: ChunkSpec[] = [];
  for (let pos = 8; pos < b.length; ) {
    const len = b.readUInt32BE(pos);
    out.push([b.toString('latin1', pos + 4, pos + 8), b.subarray(pos + 8, pos + 8 + len)]);
    pos += 12 + len;
  }
  return out;
}

/** Deterministic bytes (an LCG), so failures reproduce. */
function pseudoRandomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

function toRgba(image: RgbImage | RgbaImage): Uint8Array {
  if (image.channels === 4) return image.data;
  const out = new Uint8Array(image.width * image.height * 4);
  for (let i = 0, j = 0; i < image.data.length; i += 3, j += 4) out.set([image.data[i], image.data[i + 1], image.data[i + 2], 255], j);
  return out;
}

function tinyRgba(): Uint8Array {
  return encodePng({ width: 2, height: 2, channels: 4, data: pseudoRandomBytes(16, 7) });
}

function expectPngError(fn: () => unknown, message: string | RegExp): void {
  expect(fn).toThrowError(message);
  try {
    fn();
  } catch (e) {
    expect((e as Error).message.startsWith('PNG: ')).toBe(true);
  }
}

// ---------------------------------------------------------------------------------------

describe('CRC-32', () => {
  it('matches zlib for the spec check value and random data', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    const bytes = pseudoRandomBytes(5000, 3);
    expect(crc32(bytes)).toBe(zlibCrc32(bytes) >>> 0);
    expect(crc32(bytes, 100, 900)).toBe(zlibCrc32(bytes.subarray(100, 900)) >>> 0);
  });
});

describe('encodePng / decodePng round trips', () => {
  const text = { Title: 'Split Studio', Comment: 'Café crème, 100% Latin-1 ÿ' };
  const itxt = { parameters: 'a cat — 猫 ☕ 🐈 steps: 30', Title: 'überschreibt' };
  const sizes: [number, number][] = [[1, 1], [3, 5], [64, 64], [17, 3]];
  for (const channels of [3, 4] as const) {
    for (const [width, height] of sizes) {
      it(`${channels === 3 ? 'RGB' : 'RGBA'} ${width}x${height} with text and itxt`, () => {
        const image = { width, height, channels, data: pseudoRandomBytes(width * height * channels, width * 31 + height + channels) } as RgbImage | RgbaImage;
        const png = encodePng(image, { text, itxt });
        const decoded = decodePng(png);
        expect(decoded.width).toBe(width);
        expect(decoded.height).toBe(height);
        expect(decoded.sourceColorType).toBe(channels === 4 ? 6 : 2);
        expect(decoded.sourceBitDepth).toBe(8);
        expect(Buffer.from(decoded.data).equals(Buffer.from(toRgba(image)))).toBe(true);
        // iTXt chunks follow tEXt chunks, so the iTXt "Title" wins.
        expect(decoded.text).toEqual({ ...text, ...itxt });
        expect(readPngText(png)).toEqual({ ...text, ...itxt });
        expect(listChunks(png)).toEqual([
          { type: 'IHDR', length: 13, crcOk: true },
          ...Object.keys(text).map((k) => ({ type: 'tEXt', length: k.length + 1 + text[k as keyof typeof text].length, crcOk: true })),
          ...Object.keys(itxt).map((k) => ({ type: 'iTXt', length: k.length + 5 + Buffer.byteLength(itxt[k as keyof typeof itxt]), crcOk: true })),
          { type: 'IDAT', length: expect.any(Number), crcOk: true },
          { type: 'IEND', length: 0, crcOk: true },
        ]);
      });
    }
  }

  it('round-trips smooth content and picks predictive filters for it (§12.8)', () => {
    const width = 32, height = 16;
    const data = new Uint8Array(width * height * 3);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set([x * 8, y * 16, (x + y) * 4], (y * width + x) * 3);
    const png = encodePng({ width, height, channels: 3, data });
    const raw = inflateSync(splitPng(png).find(([t]) => t === 'IDAT')![1]);
    const filters = new Set(Array.from({ length: height }, (_, y) => raw[y * (width * 3 + 1)]));
    expect([...filters].some((f) => f !== 0)).toBe(true);
    expect(Buffer.from(decodePng(png).data).equals(Buffer.from(toRgba({ width, height, channels: 3, data })))).toBe(true);
  });

  it('keeps the keyword "__proto__" as an ordinary entry', () => {
    const decoded = decodePng(encodePng({ width: 1, height: 1, channels: 3, data: new Uint8Array(3) }, { text: { ['__proto__']: 'x' } }));
    expect(Object.keys(decoded.text)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(decoded.text)).toBe(Object.prototype);
  });
});

describe('encodePng input checks', () => {
  const image: RgbImage = { width: 1, height: 1, channels: 3, data: new Uint8Array(3) };
  it('rejects text that is not Latin-1 and points to itxt', () => {
    expectPngError(() => encodePng(image, { text: { Prompt: 'a cat 猫' } }), /not Latin-1.*itxt/);
  });
  it('rejects bad keywords', () => {
    expectPngError(() => encodePng(image, { text: { '': 'x' } }), /keyword "" has length 0/);
    expectPngError(() => encodePng(image, { itxt: { ['k'.repeat(80)]: 'x' } }), /has length 80/);
    expectPngError(() => encodePng(image, { text: { ' lead': 'x' } }), /spaces/);
    expectPngError(() => encodePng(image, { itxt: { 'tab\there': 'x' } }), /U\+0009/);
    expectPngError(() => encodePng(image, { itxt: { 'Schlüssel☕': 'x' } }), /U\+2615/);
  });
  it('rejects NUL in tEXt and unpaired surrogates in iTXt', () => {
    expectPngError(() => encodePng(image, { text: { k: 'a\0b' } }), /NUL/);
    expectPngError(() => encodePng(image, { itxt: { k: 'a\uD800b' } }), /unpaired surrogate/);
  });
  it('rejects inconsistent images', () => {
    expectPngError(() => encodePng({ ...image, data: new Uint8Array(4) }), /has 4 bytes, expected 1 x 1 x 3 = 3/);
    expectPngError(() => encodePng({ ...image, width: 0, data: new Uint8Array(0) }), /width 0/);
    expectPngError(() => encodePng({ ...image, channels: 2 } as unknown as RgbImage), /2 channels/);
  });
});

// ---------------------------------------------------------------------------------------

interface SampleEntry {
  file: string;
  encoder: string;
  width: number;
  height: number;
  colorType: number;
  bitDepth: number;
  interlace: number;
  chunks: string[];
  text: Record<string, string>;
  rgba: string;
}

const expected = JSON.parse(readFileSync(new URL('expected.json', SAMPLES), 'utf8')) as { samples: SampleEntry[] };

describe('reference PNGs from Pillow and the spec writer (tools/vectors/make_png_samples.py)', () => {
  it('cover every colour type, bit depth, tRNS and Adam7', () => {
    const combos = new Set(expected.samples.map((s) => `${s.colorType}/${s.bitDepth}`));
    for (const c of ['0/1', '0/2', '0/4', '0/8', '0/16', '2/8', '2/16', '3/1', '3/2', '3/4', '3/8', '4/8', '4/16', '6/8', '6/16']) expect(combos).toContain(c);
    expect(expected.samples.some((s) => s.interlace === 1)).toBe(true);
  });

  for (const s of expected.samples) {
    it(`${s.file} (${s.encoder}, colour type ${s.colorType}, ${s.bitDepth}-bit${s.interlace ? ', Adam7' : ''})`, () => {
      const bytes = new Uint8Array(readFileSync(new URL(s.file, SAMPLES)));
      const decoded = decodePng(bytes);
      expect([decoded.width, decoded.height, decoded.sourceColorType, decoded.sourceBitDepth]).toEqual([s.width, s.height, s.colorType, s.bitDepth]);
      expect(Buffer.from(decoded.data).toString('base64')).toBe(s.rgba);
      expect(decoded.text).toEqual(s.text);
      expect(readPngText(bytes)).toEqual(s.text);
      expect(listChunks(bytes).map((c) => c.type)).toEqual(s.chunks);
    });
  }
});

// ---------------------------------------------------------------------------------------

describe('decodePng rejects malformed files', () => {
  const good = tinyRgba();

  it('bad signature, empty input, text-mode damage', () => {
    const bad = good.slice();
    bad[0] = 0x88;
    expectPngError(() => decodePng(bad), 'PNG: not a PNG file (bad signature)');
    expectPngError(() => decodePng(new Uint8Array(0)), 'PNG: not a PNG file (bad signature)');
    const crlfToLf = new Uint8Array([...good.subarray(0, 4), 10, 26, 10, ...good.subarray(8)]);
    expectPngError(() => decodePng(crlfToLf), /text-mode/);
    expectPngError(() => decodePng(SIGNATURE), 'PNG: file ends after the signature (no IHDR chunk)');
  });

  it('bad CRC, naming the chunk and its offset', () => {
    const chunks = splitPng(good);
    const idatOffset = 8 + 25;
    expect(chunks[1][0]).toBe('IDAT');
    const bad = good.slice();
    bad[idatOffset + 8] ^= 1;
    expectPngError(() => decodePng(bad), `PNG: CRC mismatch in chunk IDAT at byte ${idatOffset}`);
    expectPngError(() => readPngText(bad), 'PNG: CRC mismatch in chunk IDAT');
    expect(listChunks(bad).map((c) => c.crcOk)).toEqual([true, false, true]);
    const badHeader = good.slice();
    badHeader[8 + 8] ^= 0x40;
    expectPngError(() => decodePng(badHeader), 'PNG: CRC mismatch in chunk IHDR at byte 8');
  });

  it('truncated file', () => {
    expectPngError(() => decodePng(good.subarray(0, 41)), /^PNG: truncated chunk IDAT at byte 33 \(declares \d+ data bytes, 0 present/);
    expectPngError(() => decodePng(good.subarray(0, 40)), 'PNG: truncated chunk header at byte 33');
    expectPngError(() => decodePng(good.subarray(0, 20)), /^PNG: truncated chunk IHDR at byte 8/);
    expectPngError(() => decodePng(good.subarray(0, 12)), 'PNG: truncated chunk header at byte 8');
    expectPngError(() => listChunks(good.subarray(0, good.length - 1)), 'PNG: truncated chunk IEND');
  });

  it('missing IEND', () => {
    expectPngError(() => decodePng(good.subarray(0, good.length - 12)), 'PNG: missing IEND chunk');
    expectPngError(() => readPngText(good.subarray(0, good.length - 12)), 'PNG: missing IEND chunk');
  });

  it('IHDR missing, not first or repeated', () => {
    const [head, data, end] = splitPng(good);
    expectPngError(() => decodePng(buildPng([data, head, end])), 'PNG: first chunk is IDAT, expected IHDR');
    expectPngError(() => decodePng(buildPng([head, head, data, end])), 'PNG: second IHDR chunk at byte 33');
    expectPngError(() => decodePng(buildPng([['IHDR', new Uint8Array(12)], data, end])), 'PNG: IHDR chunk has length 12, expected 13');
  });

  it('IDAT missing or split by another chunk', () => {
    const [head, data, end] = splitPng(good);
    expectPngError(() => decodePng(buildPng([head, end])), 'PNG: no IDAT chunk (image data missing)');
    const half = Math.floor(data[1].length / 2);
    const a: ChunkSpec = ['IDAT', data[1].subarray(0, half)];
    const b: ChunkSpec = ['IDAT', data[1].subarray(half)];
    expect(decodePng(buildPng([head, a, b, end])).data).toEqual(decodePng(good).data);
    expectPngError(() => decodePng(buildPng([head, a, ['tEXt', Buffer.from('k\0v')], b, end])), /^PNG: IDAT chunks are not consecutive \(IDAT at byte \d+ follows another chunk\)/);
  });

  it('wrong inflated size, both ways', () => {
    const head = ihdr(2, 2, 8, 6);
    expectPngError(() => decodePng(buildPng([head, ['IDAT', deflateSync(new Uint8Array(10))], iend])), 'PNG: image data inflates to 10 bytes, expected 18');
    expectPngError(() => decodePng(buildPng([head, ['IDAT', deflateSync(new Uint8Array(19))], iend])), 'PNG: image data inflates to more than the expected 18 bytes');
    expectPngError(() => decodePng(buildPng([head, ['IDAT', deflateSync(new Uint8Array(18)).subarray(0, 6)], iend])), /^PNG: corrupt zlib data in IDAT/);
    expectPngError(() => decodePng(buildPng([head, ['IDAT', Buffer.from('not zlib at all')], iend])), /^PNG: corrupt zlib data in IDAT/);
  });

  it('a zlib stream that inflates far beyond the expected size (zip bomb)', () => {
    const bomb = deflateSync(Buffer.alloc(64 * 1024 * 1024)); // 64 MiB of zeros, ~64 KB compressed
    const png = buildPng([ihdr(16, 16, 8, 6), ['IDAT', bomb], iend]);
    const start = performance.now();
    expectPngError(() => decodePng(png), 'PNG: image data inflates to more than the expected 1040 bytes');
    expect(performance.now() - start).toBeLessThan(2000);
  });

  it('width or height 0 or above 2^31-1', () => {
    expectPngError(() => decodePng(buildPng([ihdr(0, 1, 8, 2), idat([[]]), iend])), 'PNG: invalid image width 0 (must be 1 to 2^31-1)');
    expectPngError(() => decodePng(buildPng([ihdr(1, 0, 8, 2), idat([]), iend])), 'PNG: invalid image height 0');
    expectPngError(() => decodePng(buildPng([ihdr(2 ** 31, 1, 8, 2), idat([]), iend])), 'PNG: invalid image width 2147483648');
  });

  it('unsupported bit depth, colour type and methods', () => {
    const body = [idat([[0, 0, 0]]), iend];
    expectPngError(() => decodePng(buildPng([ihdr(1, 1, 4, 2), ...body])), 'PNG: unsupported bit depth 4 for colour type 2 (allowed: 8, 16)');
    expectPngError(() => decodePng(buildPng([ihdr(1, 1, 3, 0), ...body])), 'PNG: unsupported bit depth 3 for colour type 0');
    expectPngError(() => decodePng(buildPng([ihdr(1, 1, 16, 3), ...body])), 'PNG: unsupported bit depth 16 for colour type 3');
    expectPngError(() => decodePng(buildPng([ihdr(1, 1, 8, 5), ...body])), 'PNG: invalid colour type 5');
    expectPngError(() => decodePng(buildPng([ihdr(1, 1, 8, 2, 2), ...body])), 'PNG: unknown interlace method 2');
    expectPngError(() => decodePng(buildPng([ihdr(1, 1, 8, 2, 0, 1), ...body])), 'PNG: unknown compression method 1');
    expectPngError(() => decodePng(buildPng([ihdr(1, 1, 8, 2, 0, 0, 1), ...body])), 'PNG: unknown filter method 1');
  });

  it('invalid filter type in a scanline', () => {
    const png = buildPng([ihdr(1, 2, 8, 0), ['IDAT', deflateSync(Buffer.from([0, 9, 5, 9]))], iend]);
    expectPngError(() => decodePng(png), 'PNG: invalid filter type 5 in the image data');
  });

  it('palette: missing PLTE, index out of range, bad PLTE or tRNS', () => {
    const plte: ChunkSpec = ['PLTE', Buffer.from([255, 0, 0, 0, 255, 0])];
    expectPngError(() => decodePng(buildPng([ihdr(2, 1, 8, 3), idat([[0, 1]]), iend])), 'PNG: colour type 3 (indexed) requires a PLTE chunk');
    expectPngError(() => decodePng(buildPng([ihdr(3, 1, 8, 3), plte, idat([[0, 1, 5]]), iend])), 'PNG: palette index 5 out of range (palette has 2 entries)');
    // 2-bit indices can reach 3 while the palette has 2 entries.
    expectPngError(() => decodePng(buildPng([ihdr(4, 1, 2, 3), plte, idat([[0b00011011]]), iend])), 'PNG: palette index 2 out of range');
    expect(Array.from(decodePng(buildPng([ihdr(2, 1, 8, 3), plte, idat([[1, 0]]), iend])).data)).toEqual([0, 255, 0, 255, 255, 0, 0, 255]);
    expectPngError(() => decodePng(buildPng([ihdr(1, 1, 8, 3), ['PLTE', Buffer.alloc(4)], idat([[0]]), iend])), 'PNG: PLTE chunk has length 4');
    expectPngError(() => decodePng(buildPng([ihdr(1, 1, 1, 3), ['PLTE', Buffer.alloc(9)], idat([[0]]), iend])), 'PNG: PLTE chunk has 3 entries, more than bit depth 1 can index');
    expectPngError(() => decodePng(buildPng([ihdr(1, 1, 8, 0), plte, idat([[0]]), iend])), 'PNG: PLTE chunk is not allowed for colour type 0');
    expectPngError(() => decodePng(buildPng([ihdr(1, 1, 8, 3), plte, ['tRNS', Buffer.alloc(3)], idat([[0]]), iend])), 'PNG: tRNS chunk has 3 entries, more than the 2 palette entries');
    expectPngError(() => decodePng(buildPng([ihdr(1, 1, 8, 3), ['tRNS', Buffer.alloc(1)], plte, idat([[0]]), iend])), /^PNG: tRNS chunk at byte \d+ comes before PLTE/);
    expectPngError(() => decodePng(buildPng([ihdr(1, 1, 8, 3), plte, idat([[0]]), ['tRNS', Buffer.alloc(1)], iend])), /^PNG: tRNS chunk at byte \d+ comes after IDAT/);
    expectPngError(() => decodePng(buildPng([ihdr(1, 1, 8, 6), ['tRNS', Buffer.alloc(6)], idat([[0, 0, 0, 0]]), iend])), 'PNG: tRNS chunk is not allowed for colour type 6');
    expectPngError(() => decodePng(buildPng([ihdr(1, 1, 8, 2), ['tRNS', Buffer.alloc(2)], idat([[0, 0, 0]]), iend])), 'PNG: tRNS chunk has length 2, expected 6');
  });

  it('a 100000x100000 header fails fast on the pixel limit', () => {
    const png = buildPng([ihdr(100000, 100000, 8, 6), idat([[0, 0, 0, 0]]), iend]);
    const start = performance.now();
    expectPngError(() => decodePng(png), 'PNG: image is 100000 x 100000 = 10000000000 pixels, more than the limit of 67108864 (maxPixels)');
    expect(performance.now() - start).toBeLessThan(500);
    // Without the limit the header still cannot make the decoder allocate: the data must really be there.
    expectPngError(() => decodePng(png, { maxPixels: Infinity }), /^PNG: (image data inflates to \d+ bytes|image of 100000 x 100000 is too large)/);
    expectPngError(() => decodePng(tinyRgba(), { maxPixels: 3 }), 'PNG: image is 2 x 2 = 4 pixels, more than the limit of 3');
    expectPngError(() => decodePng(tinyRgba(), { maxPixels: 0 }), 'PNG: maxPixels must be a number >= 1');
  });

  it('chunk-level problems: huge length, bad type, unknown critical chunk, non-empty IEND', () => {
    const [head, data] = splitPng(good);
    const huge = new Uint8Array(Buffer.concat([SIGNATURE, chunkBytes(...head), Buffer.from([0x80, 0, 0, 0]), Buffer.from('IDAT'), Buffer.alloc(8)]));
    expectPngError(() => decodePng(huge), 'PNG: chunk IDAT at byte 33 declares length 2147483648, more than 2^31-1');
    expectPngError(() => decodePng(buildPng([head, ['ID1T', Buffer.alloc(0)], data, iend])), 'PNG: invalid chunk type 0x49443154 at byte 33');
    expectPngError(() => decodePng(buildPng([head, ['CrIt', Buffer.alloc(0)], data, iend])), 'PNG: unknown critical chunk CrIt at byte 33');
    expect(decodePng(buildPng([head, ['prIv', Buffer.from('ignored')], data, iend])).data).toEqual(decodePng(good).data);
    expectPngError(() => decodePng(buildPng([head, data, ['IEND', Buffer.alloc(1)]])), 'PNG: IEND chunk has 1 data bytes, expected 0');
  });

  it('many small chunks: ignored ancillary ones cost nothing, text chunks are capped', () => {
    const [head, data] = splitPng(good);
    const filler = Array.from({ length: 100_000 }, (): ChunkSpec => ['prIv', new Uint8Array(0)]);
    expect(decodePng(buildPng([head, ...filler, data, iend])).data).toEqual(decodePng(good).data);
    const texts = Array.from({ length: MAX_TEXT_CHUNKS + 1 }, (_, i): ChunkSpec => ['tEXt', Buffer.from(`k${i}\0v`)]);
    expectPngError(() => readPngText(buildPng([head, ...texts, data, iend])), `PNG: more than ${MAX_TEXT_CHUNKS} text chunks`);
  });

  it('text chunks: missing NUL, bad keyword, bad UTF-8, corrupt zlib, unknown methods', () => {
    const [head, data] = splitPng(good);
    const withText = (c: ChunkSpec) => buildPng([head, c, data, iend]);
    expectPngError(() => readPngText(withText(['tEXt', Buffer.from('no separator')])), /^PNG: tEXt chunk at byte 33 has no NUL separator/);
    expectPngError(() => decodePng(withText(['tEXt', Buffer.from('\0value')])), 'PNG: tEXt chunk at byte 33: keyword has length 0');
    expectPngError(() => readPngText(withText(['tEXt', Buffer.concat([Buffer.alloc(80, 'k'), Buffer.from('\0v')])])), 'keyword has length 80');
    expectPngError(() => readPngText(withText(['iTXt', Buffer.from([0x6b, 0, 0, 0, 0, 0, 0xff, 0xfe])])), 'PNG: text of iTXt chunk at byte 33 is not valid UTF-8');
    expectPngError(() => readPngText(withText(['iTXt', Buffer.from([0x6b, 0, 2, 0, 0, 0])])), 'PNG: iTXt chunk at byte 33 has invalid compression flag 2');
    expectPngError(() => readPngText(withText(['iTXt', Buffer.from([0x6b, 0, 0, 0, 0x65])])), /^PNG: truncated chunk iTXt at byte 33/);
    expectPngError(() => readPngText(withText(['zTXt', Buffer.from([0x6b, 0, 0, 1, 2, 3])])), /^PNG: corrupt zlib data in zTXt chunk at byte 33/);
    expectPngError(() => readPngText(withText(['zTXt', Buffer.concat([Buffer.from([0x6b, 0, 1]), deflateSync('x')])])), 'unknown compression method 1');
    expectPngError(() => readPngText(withText(['zTXt', Buffer.from([0x6b, 0])])), /^PNG: truncated chunk zTXt/);
  });

  it('a zTXt text bomb stops at the text limit', () => {
    const [head, data] = splitPng(good);
    const bomb = Buffer.concat([Buffer.from('k\0\0'), deflateSync(Buffer.alloc(17 * 1024 * 1024, 0x61))]);
    expectPngError(() => readPngText(buildPng([head, ['zTXt', bomb], data, iend])), 'PNG: zTXt chunk at byte 33 inflates beyond the 16777216-byte text limit');
    // The limit is shared: two 9 MiB texts are refused at the second.
    const half: ChunkSpec = ['zTXt', Buffer.concat([Buffer.from('k\0\0'), deflateSync(Buffer.alloc(9 * 1024 * 1024, 0x61))])];
    const halfItxt: ChunkSpec = ['iTXt', Buffer.concat([Buffer.from('k\0\x01\0\0\0'), deflateSync(Buffer.alloc(9 * 1024 * 1024, 0x61))])];
    expect(readPngText(buildPng([head, half, data, iend])).k).toHaveLength(9 * 1024 * 1024);
    expectPngError(() => readPngText(buildPng([head, half, halfItxt, data, iend])), /^PNG: iTXt chunk at byte \d+ inflates beyond the 16777216-byte text limit/);
  });
});

describe('readPngText and listChunks', () => {
  it('readPngText reads compressed text without decoding pixels', () => {
    const [head] = splitPng(tinyRgba());
    const itxt = Buffer.concat([Buffer.from('Prompt\0\x01\0en\0Prompt\0'), deflateSync(Buffer.from('猫 ☕', 'utf8'))]);
    const ztxt = Buffer.concat([Buffer.from('Comment\0\0'), deflateSync(Buffer.from('Caf\xe9', 'latin1'))]);
    // The IDAT is not zlib at all: only decodePng notices.
    const png = buildPng([head, ['iTXt', itxt], ['zTXt', ztxt], ['IDAT', Buffer.from('garbage')], iend]);
    expect(readPngText(png)).toEqual({ Prompt: '猫 ☕', Comment: 'Café' });
    expectPngError(() => decodePng(png), /^PNG: corrupt zlib data in IDAT/);
  });

  it('listChunks reports CRC failures instead of throwing, but rejects a non-PNG', () => {
    const png = tinyRgba();
    png[png.length - 1] ^= 0xff;
    expect(listChunks(png).at(-1)).toEqual({ type: 'IEND', length: 0, crcOk: false });
    expectPngError(() => listChunks(new Uint8Array(10)), 'PNG: not a PNG file (bad signature)');
  });
});

// ---------------------------------------------------------------------------------------

describe('robustness against corrupted input', () => {
  /** Either decodes, or throws an Error whose message starts with "PNG: "; never anything else. */
  function decodeOrPngError(bytes: Uint8Array): 'ok' | 'error' {
    try {
      decodePng(bytes, { maxPixels: 1 << 20 });
      readPngText(bytes);
      return 'ok';
    } catch (e) {
      expect(e).toBeInstanceOf(Error);
      expect((e as Error).message).toMatch(/^PNG: /);
      return 'error';
    }
  }

  const seeds = ['rgba8_adam7.png', 'pal4_trns.png', 'text.png', 'gray16_trns.png'].map((f) => new Uint8Array(readFileSync(new URL(f, SAMPLES))));

  it('every truncation of a sample ends in a PNG error', () => {
    for (const png of seeds) {
      for (let n = 0; n < png.length; n++) expect(decodeOrPngError(png.subarray(0, n))).toBe('error');
    }
  });

  it('random byte changes, with the chunk CRCs fixed up so they reach the deeper checks', () => {
    const outcomes = { ok: 0, error: 0 };
    for (let i = 0; i < 1500; i++) {
      const png = seeds[i % seeds.length].slice();
      const r = pseudoRandomBytes(8, i + 1);
      const flips = 1 + (r[0] % 4);
      for (let k = 0; k < flips; k++) png[8 + (((r[1 + k] << 8) | r[5]) % (png.length - 8))] = r[2 + k] ^ r[6];
      const fixed = i % 2 === 0 ? png : refreshCrcs(png);
      outcomes[decodeOrPngError(fixed)]++;
    }
    expect(outcomes.ok + outcomes.error).toBe(1500);
    expect(outcomes.error).toBeGreaterThan(0);
  });

  it('random changes to the inflated scanlines (filter types, palette indices), re-deflated', () => {
    const errors = new Set<string>();
    for (let i = 0; i < 600; i++) {
      const chunks = splitPng(seeds[i % 2]); // the Adam7 RGBA and the 4-bit palette sample
      const raw = new Uint8Array(inflateSync(Buffer.concat(chunks.filter(([t]) => t === 'IDAT').map(([, d]) => d))));
      const r = pseudoRandomBytes(6, 1000 + i);
      for (let k = 0; k < 1 + (r[0] % 3); k++) raw[((r[1 + k] << 8) | r[4]) % raw.length] = r[2 + k] ^ r[5];
      const rebuilt = buildPng([...chunks.filter(([t]) => t !== 'IDAT' && t !== 'IEND'), ['IDAT', deflateSync(raw)], iend]);
      try {
        decodePng(rebuilt);
      } catch (e) {
        expect((e as Error).message).toMatch(/^PNG: /);
        errors.add((e as Error).message.replace(/\d+/g, 'N'));
      }
    }
    expect([...errors].some((m) => m.startsWith('PNG: invalid filter type'))).toBe(true);
    expect([...errors].some((m) => m.startsWith('PNG: palette index'))).toBe(true);
  });

  /** Recomputes each chunk's CRC where the chunk layout still parses; leaves the rest as it is. */
  function refreshCrcs(png: Uint8Array): Uint8Array {
    const b = Buffer.from(png);
    for (let pos = 8; pos + 12 <= b.length; ) {
      const len = b.readUInt32BE(pos);
      if (pos + 12 + len > b.length) break;
      b.writeUInt32BE(zlibCrc32(b.subarray(pos + 4, pos + 8 + len)) >>> 0, pos + 8 + len);
      pos += 12 + len;
    }
    return new Uint8Array(b);
  }
});
