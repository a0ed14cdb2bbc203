/**
 * Hostile .npy bytes: readNpy throws only NpyError (no TypeError/RangeError, no hang, no huge
 * allocation) within a time bound per input; assertFinite rejects NaN and ±Infinity only where
 * the caller asks. Seeds are fixed so a failure replays.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { MAX_HEADER_BYTES, NpyError, assertFinite, encodeNpy, readNpy } from './npy';

const SEED = 20261130;
const MAX_MS = 200;

function header(text: string, major = 1): Uint8Array {
  const lengthSize = major === 1 ? 2 : 4;
  const bytes = new Uint8Array(8 + lengthSize + text.length);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const view = new DataView(bytes.buffer);
  if (major === 1) view.setUint16(8, text.length, true);
  else view.setUint32(8, text.length, true);
  for (let i = 0; i < text.length; i++) bytes[8 + lengthSize + i] = text.charCodeAt(i) & 0xff;
  return bytes;
}

/** readNpy returns an array whose size matches its shape, or throws NpyError, in time. */
function checkRead(bytes: Uint8Array): void {
  const start = performance.now();
  try {
    const array = readNpy(bytes);
    expect(array.data.length).toBe(array.shape.reduce((a, b) => a * b, 1));
  } catch (error) {
    if (!(error instanceof NpyError)) throw error;
  }
  expect(performance.now() - start).toBeLessThan(MAX_MS);
}

describe('readNpy on hostile bytes', () => {
  test('random bytes, with and without the magic', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.boolean(), (bytes, magic) => {
        if (magic && bytes.length >= 8) bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1 + (bytes[6] & 1), 0]);
        checkRead(bytes);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  test('valid files with bytes flipped, cut or appended', () => {
    const valid = fc
      .array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 4 })
      .map((shape) => encodeNpy(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i / 7), shape));
    fc.assert(
      fc.property(valid, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.nat(), fc.uint8Array({ maxLength: 16 }), (bytes, flips, cut, extra) => {
        const b = Uint8Array.from(bytes);
        for (const [at, value] of flips) b[at % b.length] = value;
        checkRead(b.subarray(0, b.length - (cut % 3 === 0 ? cut % b.length : 0)));
        const longer = new Uint8Array(b.length + extra.length);
        longer.set(b);
        longer.set(extra, b.length);
        checkRead(longer);
      }),
      { seed: SEED, numRuns: 1500 },
    );
  });

  test('random header dicts: odd keys, values, shapes and dtypes', () => {
    const descr = fc.constantFrom("'<f4'", "'<f8'", "'>f4'", "'__proto__'", "'constructor'", "'toString'", "'|u1'", '1', 'True', "''");
    const dim = fc.oneof(fc.nat(5), fc.constantFrom(2 ** 31, 2 ** 53, 2 ** 60, 10 ** 30, -1));
    const shape = fc.array(dim, { maxLength: 40 }).map((d) => (d.length === 1 ? `(${d[0]},)` : `(${d.join(', ')})`));
    const extra = fc.constantFrom('', "'x': 1, ", "'shape': (), ", "'descr': '<f4', ");
    fc.assert(
      fc.property(descr, fc.constantFrom('False', 'True', '0', "'no'"), shape, extra, fc.uint8Array({ maxLength: 64 }), (d, order, s, e, data) => {
        const h = header(`{${e}'descr': ${d}, 'fortran_order': ${order}, 'shape': ${s}, }\n`);
        const bytes = new Uint8Array(h.length + data.length);
        bytes.set(h);
        bytes.set(data, h.length);
        checkRead(bytes);
      }),
      { seed: SEED, numRuns: 1500 },
    );
  });

  test('random header text from the tokenizer alphabet', () => {
    const token = fc.constantFrom('{', '}', '(', ')', ':', ',', "'", '"', ' ', 'descr', 'shape', 'fortran_order', "'descr'", "'shape'", '1', '99999999999999999999', 'True', '\\', '\n', 'é');
    fc.assert(
      fc.property(fc.array(token, { maxLength: 60 }), fc.boolean(), (tokens, v2) => checkRead(header(tokens.join(''), v2 ? 2 : 1))),
      { seed: SEED, numRuns: 1500 },
    );
  });

  test("dtype names of Object.prototype's keys are unsupported dtypes, not numbers", () => {
    for (const d of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      expect(() => readNpy(header(`{'descr': '${d}', 'fortran_order': False, 'shape': (1,), }\n`))).toThrow(`npy: dtype '${d}' is not supported (expected '<f4')`);
    }
  });

  test('a format 2.0 header longer than the limit is refused before it is decoded', () => {
    const length = MAX_HEADER_BYTES + 1;
    const bytes = new Uint8Array(12 + length).fill(32);
    bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0]);
    new DataView(bytes.buffer).setUint32(8, length, true);
    expect(() => readNpy(bytes)).toThrow(NpyError);
    expect(() => readNpy(bytes)).toThrow(/header of 1048577 bytes is more than the 1048576/);
  });

  test('not a Uint8Array: NpyError, not TypeError', () => {
    expect(() => readNpy('x' as unknown as Uint8Array)).toThrow(NpyError);
  });
});

describe('assertFinite', () => {
  test('NaN and ±Infinity are refused only when asked, naming the index', () => {
    const data = new Float32Array(24).fill(0.5);
    data[13] = Number.NaN; // [1, 0, 1] in (2, 3, 4)
    const bytes = encodeNpy(data, [2, 3, 4]);
    expect(Number.isNaN(readNpy(bytes).data[13])).toBe(true);
    expect(() => readNpy(bytes, { requireFinite: true, what: '--init-noise n.npy' })).toThrow('--init-noise n.npy: value at index [1, 0, 1] is NaN; values must be finite');
    data[13] = -Infinity;
    expect(() => assertFinite(readNpy(encodeNpy(data, [2, 3, 4])), 'x.npy')).toThrow('x.npy: value at index [1, 0, 1] is -Infinity');
    data[13] = 3e38;
    expect(() => assertFinite(readNpy(encodeNpy(data, [2, 3, 4])))).not.toThrow();
  });

  test('float64 files whose values overflow float32 are infinite, and caught', () => {
    const h = header("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }\n");
    const bytes = new Uint8Array(h.length + 16);
    bytes.set(h);
    new DataView(bytes.buffer).setFloat64(h.length + 8, 1e300, true);
    expect(() => readNpy(bytes, { requireFinite: true })).toThrow('npy: value at index [1] is Infinity');
  });

  test('random float32 data: throws exactly when a value is not finite', () => {
    fc.assert(
      fc.property(fc.array(fc.float(), { maxLength: 50 }), (values) => {
        const array = readNpy(encodeNpy(Float32Array.from(values), [values.length]));
        const finite = values.every(Number.isFinite);
        if (finite) expect(() => assertFinite(array)).not.toThrow();
        else expect(() => assertFinite(array)).toThrow(NpyError);
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });
});
