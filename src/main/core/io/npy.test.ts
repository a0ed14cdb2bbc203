import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeNpy, readNpy } from './npy';

const sampleDir = new URL('./samples/', import.meta.url);

function sample(name: string): Uint8Array {
  return readFileSync(new URL(name, sampleDir));
}

/** The values tools/vectors/make_npy_samples.py stores: (i + 1) / 3 in C order, as float32. */
function thirds(shape: readonly number[]): Float32Array {
  const numel = shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: numel }, (_, i) => (i + 1) / 3);
}

function firstByteDifference(actual: Uint8Array, expected: Uint8Array): string | undefined {
  const length = Math.min(actual.length, expected.length);
  for (let i = 0; i < length; i++) {
    if (actual[i] !== expected[i]) return `byte ${i}: got ${actual[i]}, expected ${expected[i]}`;
  }
  return actual.length === expected.length ? undefined : `length ${actual.length}, expected ${expected.length}`;
}

/** A version 1.0 file with an arbitrary header text (padded as numpy would) and data bytes. */
function withHeader(text: string, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const padding = 64 - ((10 + text.length + 1) % 64);
  const header = `${text}${' '.repeat(padding)}\n`;
  const bytes = new Uint8Array(10 + header.length + data.length);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
  for (let i = 0; i < header.length; i++) bytes[10 + i] = header.charCodeAt(i);
  bytes.set(data, 10 + header.length);
  return bytes;
}

const NUMPY_SAMPLES: [string, number[]][] = [
  ['f4_2x3.npy', [2, 3]],
  ['f4_5.npy', [5]],
  ['f4_0.npy', [0]],
  ['f4_scalar.npy', []],
  ['f4_1x4x3x2.npy', [1, 4, 3, 2]],
  ['f4_full_padding.npy', [2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 10, 10]],
];

describe('encodeNpy / readNpy', () => {
  it.each([[[]], [[0]], [[7]], [[2, 3, 4]], [[1, 4, 64, 64]], [[3, 0, 2]]])('round-trips shape %j', (shape) => {
    const numel = shape.reduce((a, b) => a * b, 1);
    const data = Float32Array.from({ length: numel }, (_, i) => Math.sin(i * 12.9898) * 43758.5453);
    if (numel > 2) data.set([Number.NaN, Number.NEGATIVE_INFINITY, -0], 0);
    const decoded = readNpy(encodeNpy(data, shape));
    expect(decoded.shape).toEqual(shape);
    // Bytewise, so NaN and -0 count, and without toEqual's slow walk over large typed arrays.
    expect(firstByteDifference(new Uint8Array(decoded.data.buffer), new Uint8Array(data.buffer))).toBeUndefined();
  });

  it.each(NUMPY_SAMPLES)('matches numpy byte for byte: %s', (name, shape) => {
    const numpyBytes = sample(name);
    expect(firstByteDifference(encodeNpy(thirds(shape), shape), numpyBytes)).toBeUndefined();
    const decoded = readNpy(numpyBytes);
    expect(decoded.shape).toEqual(shape);
    expect(decoded.data).toEqual(thirds(shape));
  });

  it('aligns the data to 64 bytes and ends the header with a newline', () => {
    for (const shape of [[], [1], [123456789, 0], [2, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9, 0], new Array(32).fill(1)]) {
      const bytes = encodeNpy(thirds(shape), shape);
      const headerLength = bytes[8] | (bytes[9] << 8);
      expect((10 + headerLength) % 64).toBe(0);
      expect(bytes[10 + headerLength - 1]).toBe(0x0a);
    }
  });

  it('reads format 2.0', () => {
    const decoded = readNpy(sample('f4_2x3_v2.npy'));
    expect(decoded.shape).toEqual([2, 3]);
    expect(decoded.data).toEqual(thirds([2, 3]));
  });

  it("converts '<f8' to float32", () => {
    const decoded = readNpy(sample('f8_2x3.npy'));
    expect(decoded.shape).toEqual([2, 3]);
    expect(decoded.data).toEqual(thirds([2, 3]));
  });

  it('reads from a view that does not start at its buffer start', () => {
    const bytes = sample('f4_2x3.npy');
    const padded = new Uint8Array(bytes.length + 3);
    padded.set(bytes, 3);
    expect(readNpy(padded.subarray(3)).data).toEqual(thirds([2, 3]));
  });

  it('rejects data that does not match the shape', () => {
    expect(() => encodeNpy(new Float32Array(5), [2, 3])).toThrow('npy: shape (2, 3) holds 6 values but data has 5');
    expect(() => encodeNpy(new Float32Array(0), [-1])).toThrow(/shape entries must be non-negative integers/);
    expect(() => encodeNpy(new Float32Array(1), new Array(33).fill(1))).toThrow(
      'npy: 33 dimensions is more than numpy can load (32)',
    );
  });
});

describe('readNpy rejections', () => {
  it('rejects fortran order', () => {
    expect(() => readNpy(sample('reject_fortran_2x3.npy'))).toThrow(
      'npy: fortran_order True is not supported (expected C order)',
    );
  });

  it('rejects big-endian data', () => {
    expect(() => readNpy(sample('reject_big_endian_3.npy'))).toThrow(
      "npy: big-endian dtype '>f4' is not supported (expected '<f4')",
    );
  });

  it('rejects other dtypes', () => {
    expect(() => readNpy(sample('reject_i8_3.npy'))).toThrow("npy: dtype '<i8' is not supported (expected '<f4')");
  });

  it('rejects truncated data', () => {
    const bytes = sample('f4_2x3.npy');
    expect(() => readNpy(bytes.subarray(0, bytes.length - 4))).toThrow(
      "npy: truncated data: shape (2, 3) of '<f4' needs 24 bytes but 20 follow the header",
    );
  });

  it('rejects trailing bytes beyond the shape', () => {
    const bytes = sample('f4_5.npy');
    const longer = new Uint8Array(bytes.length + 4);
    longer.set(bytes);
    expect(() => readNpy(longer)).toThrow(
      "npy: data length mismatch: shape (5,) of '<f4' needs 20 bytes but 24 follow the header",
    );
  });

  it('rejects files without the magic string', () => {
    expect(() => readNpy(new TextEncoder().encode('PK\u0003\u0004 not numpy'))).toThrow(
      'npy: not a .npy file (missing \\x93NUMPY magic)',
    );
    expect(() => readNpy(new Uint8Array(0))).toThrow(/not a \.npy file/);
  });

  it('rejects unknown format versions', () => {
    const bytes = sample('f4_2x3.npy').slice();
    bytes[6] = 3;
    expect(() => readNpy(bytes)).toThrow('npy: format version 3.0 is not supported (expected 1.0 or 2.0)');
  });

  it('rejects a truncated header', () => {
    const bytes = sample('f4_2x3.npy');
    expect(() => readNpy(bytes.subarray(0, 40))).toThrow('npy: truncated header: declares 118 bytes but only 30 follow');
    expect(() => readNpy(bytes.subarray(0, 9))).toThrow(/truncated header: the file ends inside the header length/);
  });

  it.each([
    ["{'descr': '<f4', 'fortran_order': False}", "'shape' must be a tuple of integers"],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (3), }", '(3) is not a tuple'],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': [3], }", "unexpected character '[' at offset 50"],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (-3,), }", "unexpected character '-' at offset 51"],
    ["{'descr': '<f4', 'fortran_order': 0, 'shape': (3,), }", "unexpected '0' at offset 34"],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'extra': 1, }", "unexpected '1' at offset 65"],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'extra': 'x', }", "unexpected key 'extra'"],
    ["{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3,)}", "duplicate key 'descr'"],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (3,) ", 'unexpected end of header'],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (3,)} x", "unexpected 'x' after the dict"],
    ["{'descr: '<f4'}", "unexpected character '<' at offset 10"],
    ["{descr: '<f4'}", 'expected a quoted key at offset 1'],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': ('3',), }", "shape entries must be integers, found '3'"],
    ['not a dict', "expected '{' at offset 0, found 'not'"],
  ])('rejects the malformed header %s', (header, detail) => {
    expect(() => readNpy(withHeader(header, new Uint8Array(12)))).toThrow(`npy: malformed header: ${detail}`);
  });

  it('accepts any key order, double quotes and no trailing comma, as Python would', () => {
    const data = new Uint8Array(new Float32Array([1, 2, 3]).buffer);
    const decoded = readNpy(withHeader('{"shape": (3,), "fortran_order": False, "descr": "<f4"}', data));
    expect(decoded).toEqual({ shape: [3], data: new Float32Array([1, 2, 3]) });
  });
});
