/**
 * Hostile PNG bytes: listChunks, readPngText and decodePng throw only PngError (no TypeError,
 * RangeError or zlib error escapes, no hang) within a time bound per input, with chunks whose
 * CRCs are right so that damage reaches the deeper layers (IHDR fields, text chunks, zlib
 * streams, filters). Seeds are fixed so a failure replays.
 */
import { deflateSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { MAX_TEXT_BYTES, PngError, crc32, decodePng, encodePng, listChunks, readPngText } from './png';

const SEED = 20261130;
const MAX_MS = 200;
const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out, 4, 8 + data.length));
  return out;
}

function png(chunks: Uint8Array[]): Uint8Array {
  const total = 8 + chunks.reduce((a, c) => a + c.length, 0);
  const out = new Uint8Array(total);
  out.set(SIGNATURE);
  let at = 8;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function ihdr(width: number, height: number, depth: number, colorType: number, interlace = 0): Uint8Array {
  const d = new Uint8Array(13);
  const v = new DataView(d.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  d.set([depth, colorType, 0, 0, interlace], 8);
  return chunk('IHDR', d);
}

/** Every reader on `bytes`: a result or PngError, each in time. */
function checkAll(bytes: Uint8Array): void {
  for (const read of [() => listChunks(bytes), () => readPngText(bytes), () => decodePng(bytes, { maxPixels: 1 << 16 })]) {
    const start = performance.now();
    try {
      read();
    } catch (error) {
      if (!(error instanceof PngError)) throw error;
    }
    expect(performance.now() - start).toBeLessThan(MAX_MS);
  }
}

const text = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

describe('PNG readers on hostile bytes', () => {
  test('random bytes, with and without the signature', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, signed) => checkAll(signed ? concat(Uint8Array.from(SIGNATURE), bytes) : bytes)),
      { seed: SEED, numRuns: 2000 },
    );
  });

  test('valid PNGs with text, bytes flipped or cut (CRCs fixed, so the damage is parsed)', () => {
    const image = fc.record({ w: fc.integer({ min: 1, max: 6 }), h: fc.integer({ min: 1, max: 6 }), alpha: fc.boolean() }).map(({ w, h, alpha }) => {
      const channels = alpha ? 4 : 3;
      return encodePng({ width: w, height: h, channels, data: Uint8Array.from({ length: w * h * channels }, (_, i) => (i * 37) & 0xff) }, { text: { parameters: 'a cat\nSteps: 3, Seed: 1, Sampler: DDIM' }, itxt: { 'split-studio': '{"steps": 3}' } });
    });
    fc.assert(
      fc.property(image, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.boolean(), fc.nat(), (bytes, flips, fixCrcs, cut) => {
        const b = Uint8Array.from(bytes);
        for (const [at, value] of flips) b[8 + (at % (b.length - 8))] = value;
        if (fixCrcs) {
          // Recompute every CRC the (possibly damaged) lengths still let us find.
          let pos = 8;
          while (pos + 12 <= b.length) {
            const length = new DataView(b.buffer).getUint32(pos);
            if (pos + 12 + length > b.length) break;
            new DataView(b.buffer).setUint32(pos + 8 + length, crc32(b, pos + 4, pos + 8 + length));
            pos += 12 + length;
          }
        }
        checkAll(cut % 4 === 0 ? b.subarray(0, cut % b.length) : b);
      }),
      { seed: SEED, numRuns: 1500 },
    );
  });

  test('random chunk sequences with right CRCs: random headers, text chunks and zlib streams', () => {
    const header = fc.tuple(fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constantFrom(2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1)), fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constantFrom(2 ** 31 - 1, 2 ** 32 - 1)), fc.constantFrom(0, 1, 2, 4, 8, 16, 3), fc.constantFrom(0, 2, 3, 4, 6, 5), fc.constantFrom(0, 1, 2)).map(([w, h, d, c, i]) => ihdr(w, h, d, c, i));
    const keyword = fc.oneof(fc.constantFrom('parameters', 'split-studio', 'Software', '', ' x', 'a'.repeat(80)), fc.string({ maxLength: 10 }));
    const body = fc.uint8Array({ maxLength: 64 });
    const textChunk = fc.oneof(
      fc.tuple(keyword, body).map(([k, v]) => chunk('tEXt', concat(text(k), Uint8Array.of(0), v))),
      fc.tuple(keyword, body, fc.boolean()).map(([k, v, z]) => chunk('zTXt', concat(text(k), Uint8Array.of(0, 0), z ? deflateSync(v) : v))),
      fc.tuple(keyword, body, fc.constantFrom(0, 1, 2), fc.constantFrom(0, 1), fc.string({ maxLength: 5 })).map(([k, v, flag, method, lang]) =>
        chunk('iTXt', concat(text(k), Uint8Array.of(0, flag, method), text(lang), Uint8Array.of(0), text(lang), Uint8Array.of(0), flag === 1 ? deflateSync(v) : v)),
      ),
    );
    const other = fc.oneof(
      fc.tuple(fc.constantFrom(0, 1, 2, 5), fc.uint8Array({ maxLength: 200 })).map(([filter, raw]) => chunk('IDAT', deflateSync(raw.map((b, i) => (i % 7 === 0 ? filter : b))))),
      fc.uint8Array({ maxLength: 40 }).map((d) => chunk('IDAT', d)),
      fc.uint8Array({ maxLength: 30 }).map((d) => chunk('PLTE', d)),
      fc.uint8Array({ maxLength: 10 }).map((d) => chunk('tRNS', d)),
      fc.constant(chunk('IEND', new Uint8Array(0))),
      fc.uint8Array({ maxLength: 10 }).map((d) => chunk('zzZz', d)),
      fc.uint8Array({ maxLength: 10 }).map((d) => chunk('ABCD', d)),
      textChunk,
    );
    fc.assert(
      fc.property(header, fc.array(other, { maxLength: 8 }), fc.boolean(), (h, rest, end) => checkAll(png([h, ...rest, ...(end ? [chunk('IEND', new Uint8Array(0))] : [])]))),
      { seed: SEED, numRuns: 2000 },
    );
  });

  test('a zlib bomb in a text chunk or IDAT is refused within the bound', () => {
    const bomb = deflateSync(new Uint8Array(MAX_TEXT_BYTES + 1024));
    const textBomb = png([ihdr(1, 1, 8, 2), chunk('zTXt', concat(text('parameters'), Uint8Array.of(0, 0), bomb)), chunk('IDAT', deflateSync(new Uint8Array(4))), chunk('IEND', new Uint8Array(0))]);
    expect(() => readPngText(textBomb)).toThrow(PngError);
    const idatBomb = png([ihdr(1, 1, 8, 2), chunk('IDAT', bomb), chunk('IEND', new Uint8Array(0))]);
    const start = performance.now();
    expect(() => decodePng(idatBomb)).toThrow(PngError);
    expect(performance.now() - start).toBeLessThan(1000);
  });

  test('not a Uint8Array: PngError, not TypeError', () => {
    for (const input of [null, 'x', [1, 2, 3], new ArrayBuffer(8)]) {
      expect(() => readPngText(input as unknown as Uint8Array)).toThrow(PngError);
      expect(() => decodePng(input as unknown as Uint8Array)).toThrow(PngError);
    }
  });
});
