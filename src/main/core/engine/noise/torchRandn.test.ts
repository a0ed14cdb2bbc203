import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readNpy } from '../../io/npy';
import { MT19937 } from './mt19937';
import { torchRandn } from './torchRandn';

interface VectorCase {
  seed: string;
  shape: number[];
  file: string;
}

interface Manifest {
  torch: string;
  cpuCapability: string;
  cases: VectorCase[];
}

const vectorDir = new URL('./vectors/', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('manifest.json', vectorDir), 'utf8')) as Manifest;

/** Seeds above 2^53 only survive as bigints; smaller ones go through the number path. */
function seedArgument(seed: string): number | bigint {
  const big = BigInt(seed);
  return big <= 2n ** 53n ? Number(big) : big;
}

function hex(bits: number): string {
  return `0x${bits.toString(16).padStart(8, '0')}`;
}

/** Bitwise comparison; describes the first differing element, or returns undefined. */
function firstMismatch(actual: Float32Array, expected: Float32Array): string | undefined {
  if (actual.length !== expected.length) return `length ${actual.length}, expected ${expected.length}`;
  const actualBits = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const expectedBits = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < actualBits.length; i++) {
    if (actualBits[i] !== expectedBits[i]) {
      return (
        `index ${i}: got ${actual[i]} (${hex(actualBits[i])}), ` +
        `expected ${expected[i]} (${hex(expectedBits[i])})`
      );
    }
  }
  return undefined;
}

describe('MT19937', () => {
  it('matches std::mt19937 reference outputs', () => {
    const zero = new MT19937(0);
    expect([zero.nextUint32(), zero.nextUint32(), zero.nextUint32()]).toEqual([2357136044, 2546248239, 3071714933]);
    // The C++ standard requires the 10000th output of a default-seeded (5489) mt19937 to be this.
    const standard = new MT19937(5489);
    for (let i = 1; i < 10000; i++) standard.nextUint32();
    expect(standard.nextUint32()).toBe(4123659995);
  });

  it('rejects seeds that are not unsigned 32-bit integers', () => {
    expect(() => new MT19937(-1)).toThrow(/unsigned 32-bit/);
    expect(() => new MT19937(2 ** 32)).toThrow(/unsigned 32-bit/);
    expect(() => new MT19937(0.5)).toThrow(/unsigned 32-bit/);
  });
});

describe(`torchRandn vs torch ${manifest.torch} (${manifest.cpuCapability})`, () => {
  it('has vectors for every code path', () => {
    const sizes = new Set(manifest.cases.map((c) => c.shape.reduce((a, b) => a * b, 1)));
    for (const numel of [0, 1, 7, 15, 16, 17, 100, 16384]) expect(sizes).toContain(numel);
  });

  it.each(manifest.cases)('seed $seed, shape [$shape]', ({ seed, shape, file }) => {
    const expected = readNpy(readFileSync(new URL(file, vectorDir)));
    expect(expected.shape).toEqual(shape);
    expect(firstMismatch(torchRandn(seedArgument(seed), shape), expected.data)).toBeUndefined();
  });

  it('treats number and bigint seeds alike and keeps only the low 32 bits, like torch', () => {
    const reference = torchRandn(5, [40]);
    expect(firstMismatch(torchRandn(5n, [40]), reference)).toBeUndefined();
    expect(firstMismatch(torchRandn(2 ** 32 + 5, [40]), reference)).toBeUndefined();
    expect(firstMismatch(torchRandn(2n ** 63n + 5n, [40]), reference)).toBeUndefined();
  });
});

describe('torchRandn validation', () => {
  it.each([-1, 0.5, Number.NaN, Number.POSITIVE_INFINITY])('rejects the number seed %s', (seed) => {
    expect(() => torchRandn(seed, [4])).toThrow(/seed must be a non-negative integer/);
  });

  it('rejects number seeds above 2^53 and asks for a bigint', () => {
    expect(() => torchRandn(2 ** 53 + 2, [4])).toThrow(/exceeds 2\^53; pass it as a bigint/);
    expect(() => torchRandn(2 ** 53, [4])).not.toThrow();
  });

  it('rejects bigint seeds outside 0..2^64-1', () => {
    expect(() => torchRandn(-1n, [4])).toThrow(/seed must be in 0\.\.2\^64-1/);
    expect(() => torchRandn(2n ** 64n, [4])).toThrow(/seed must be in 0\.\.2\^64-1/);
    expect(() => torchRandn(2n ** 64n - 1n, [4])).not.toThrow();
  });

  it('rejects seeds of other types', () => {
    expect(() => torchRandn('5' as unknown as number, [4])).toThrow(/seed must be a non-negative integer, got 5/);
  });

  it('rejects shapes with negative or fractional entries', () => {
    expect(() => torchRandn(0, [2, -1])).toThrow(/shape entries must be non-negative integers, got \[2, -1\]/);
    expect(() => torchRandn(0, [1.5])).toThrow(/shape entries must be non-negative integers/);
  });
});
