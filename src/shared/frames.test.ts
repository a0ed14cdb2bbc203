import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { FrameError, MAX_FRAME_BLOBS, decodeFrame, encodeFrame } from './frames';

/** Fixed so a failure replays; FC_SEED=<n> explores others. fast-check prints the counterexample. */
const SEED = Number(process.env.FC_SEED ?? 20261130);
const RUNS = 2000;
/** Per input (a few KiB): generous for a shared, loaded machine, far below a pathological decode. */
const PER_INPUT_MS = 250;

test('round trip keeps bytes as bytes, anywhere in the message', () => {
  const message = { type: 'event', payload: { preview: new Uint8Array([0, 255, 7]), nested: [new Uint8Array(0), { b: new Uint8Array([9]) }], text: 'é' } };
  const back = decodeFrame(encodeFrame(message)) as typeof message;
  expect(back).toEqual(message);
  expect(back.payload.preview).toBeInstanceOf(Uint8Array);
});

const emptyBlobs = (count: number) => {
  const frame = new Uint8Array(4 + 2 + 4 * count);
  new DataView(frame.buffer).setUint32(0, 2, true);
  frame.set([0x7b, 0x7d], 4); // "{}", then `count` blobs of length 0
  return frame;
};

test.each([
  ['empty', new Uint8Array(0), /too short/],
  ['header past the end', new Uint8Array([255, 0, 0, 0, 123]), /header truncated/],
  ['blob past the end', (() => { const f = encodeFrame({ a: new Uint8Array([1, 2, 3]) }); return f.subarray(0, f.length - 1); })(), /blob truncated/],
  ['reference to a missing blob', encodeFrame({ a: { $blob: 3 } }), /missing blob 3/],
  ['a fractional blob reference', encodeFrame({ a: { $blob: 0.5 }, b: new Uint8Array(1) }), /missing blob 0.5/],
  ['bad UTF-8', new Uint8Array([2, 0, 0, 0, 0xff, 0xfe]), /not UTF-8/],
  ['a header that is not JSON', new Uint8Array([1, 0, 0, 0, 0x78]), /not JSON/],
  ['one blob more than the limit', emptyBlobs(MAX_FRAME_BLOBS + 1), /more than 64 blobs/],
])('rejects %s with a FrameError', (_name, frame, message) => {
  expect(() => decodeFrame(frame)).toThrow(message);
  expect(() => decodeFrame(frame)).toThrow(FrameError);
});

describe('hostile frames (regressions)', () => {
  test('a million empty blobs are refused before any is allocated, at once', () => {
    // The old decoder built 1,000,000 arrays from these 4 MB (a 32 MiB frame: 8 million, gigabytes).
    const frame = emptyBlobs(1_000_000);
    const started = performance.now();
    expect(() => decodeFrame(frame)).toThrow(FrameError);
    expect(performance.now() - started).toBeLessThan(250);
  });

  test('a header nested a million deep fails as a FrameError, not a stack overflow', () => {
    const header = new TextEncoder().encode(`${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`);
    const frame = new Uint8Array(4 + header.length);
    new DataView(frame.buffer).setUint32(0, header.length, true);
    frame.set(header, 4);
    let thrown: unknown;
    try {
      decodeFrame(frame);
    } catch (error) {
      thrown = error;
    }
    // Either it decodes (V8 may parse it) or it fails with the codec's error, never a RangeError.
    if (thrown !== undefined) expect(thrown).toBeInstanceOf(FrameError);
  });

  test('the size limit is the caller\'s to lower', () => {
    expect(() => decodeFrame(new Uint8Array(1000), { maxBytes: 999 })).toThrow(/too large/);
  });
});

/** Decodes, and answers the error (or null), failing if anything but a FrameError escapes or it is slow. */
function decodeWithin(frame: Uint8Array): FrameError | null {
  const started = performance.now();
  try {
    decodeFrame(frame);
    return null;
  } catch (error) {
    if (!(error instanceof FrameError)) throw new Error(`escaped a non-FrameError: ${String(error)}`);
    return error;
  } finally {
    const ms = performance.now() - started;
    if (ms > PER_INPUT_MS) throw new Error(`decoding ${frame.length} bytes took ${ms.toFixed(1)} ms`);
  }
}

/** A byte array with a plausible prefix: a header length that fits, then anything. */
const plausibleFrame = fc
  .tuple(fc.string({ maxLength: 64 }), fc.array(fc.uint8Array({ maxLength: 16 }), { maxLength: 80 }), fc.uint8Array({ maxLength: 8 }))
  .map(([header, blobs, tail]) => {
    const h = new TextEncoder().encode(header);
    const parts = [new Uint8Array(new Uint32Array([h.length]).buffer), h, ...blobs.flatMap((b) => [new Uint8Array(new Uint32Array([b.length]).buffer), b]), tail];
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  });

/** Valid frames with bytes flipped, cut short or extended. */
const mutatedFrame = fc
  .tuple(fc.jsonValue({ maxDepth: 3 }), fc.array(fc.uint8Array({ maxLength: 32 }), { maxLength: 4 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat({ max: 40 }))
  .map(([payload, blobs, flips, cut]) => {
    const frame = encodeFrame({ type: 'call', payload, blobs });
    for (const [at, value] of flips) frame[at % frame.length] = value;
    return frame.subarray(0, Math.max(0, frame.length - cut));
  });

describe(`property: any bytes decode or fail with a FrameError within ${PER_INPUT_MS} ms (seed ${SEED}, ${RUNS} runs each)`, () => {
  test.each([
    ['random bytes', fc.uint8Array({ maxLength: 4096 })],
    ['plausible length prefixes', plausibleFrame],
    ['mutated valid frames', mutatedFrame],
  ])('%s', (_name, arbitrary) => {
    fc.assert(fc.property(arbitrary, (frame) => void decodeWithin(frame)), { seed: SEED, numRuns: RUNS });
  });

  test('valid frames round-trip: JSON stays JSON, bytes stay bytes', () => {
    const message = fc.record({
      type: fc.constantFrom('call', 'result', 'event'),
      id: fc.nat(),
      payload: fc.jsonValue({ maxDepth: 4 }),
      images: fc.array(fc.uint8Array({ maxLength: 256 }), { maxLength: 4 }),
    });
    fc.assert(
      fc.property(message, (m) => {
        const back = decodeFrame(encodeFrame(m)) as typeof m;
        // JSON's own losses (-0 becomes 0) are not the codec's: compare with JSON's round trip.
        expect(back).toEqual({ ...m, payload: JSON.parse(JSON.stringify(m.payload)) });
        for (const image of back.images) expect(image).toBeInstanceOf(Uint8Array);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
});
