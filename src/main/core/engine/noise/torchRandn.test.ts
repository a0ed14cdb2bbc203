import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readNpy } from '../../io/npy';
import { MT19937 } from './mt19937';
import { TorchGenerator, torchRandn } from './torchRandn';

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

/**
 * A generator that keeps going, as diffusers' pipelines use one: the initial latents, then every
 * ancestral step's noise. Expected values from Debian's torch 1.13 (AVX2):
 *   /usr/bin/python3 -c "import torch; g = torch.Generator().manual_seed(1234);
 *     print([torch.randn(s, generator=g).reshape(-1).tolist() for s in [[5],[16],[1],[3],[20],[2]]])"
 * The mix of sizes crosses both of torch's paths: a scalar draw leaves the second value of its
 * Box–Muller pair cached in the generator, the vectorised path (>= 16 values) leaves the cache
 * alone, and the next scalar draw ([1] after [16]) returns the cached value first.
 */
const STREAM = {
  seed: 1234,
  shapes: [[5], [16], [1], [3], [20], [2]],
  values: [
    [0.0461304634809494, 0.4024028182029724, -1.0115290880203247, 0.2167382389307022, -0.612273097038269],
    [-1.3892054557800293, -0.6207640767097473, -0.02416170760989189, -1.040229320526123, 0.7988325953483582, -0.09228753298521042, -0.704919695854187, -1.6023621559143066, -1.0257141590118408, 1.7473368644714355, 0.8089597225189209, -1.0988695621490479, -0.17061349749565125, -1.459438681602478, 0.220659077167511, 0.24625207483768463],
    [0.5036107301712036],
    [-0.13192042708396912, 0.8848397731781006, -0.26107680797576904],
    [-0.567545473575592, -0.2772276699542999, -2.1833977699279785, 0.3668263554573059, -0.2833324372768402, -0.5659511089324951, 0.3566184937953949, -0.4534882605075836, -0.29713547229766846, -1.5379705429077148, -1.024849772453308, -0.37806156277656555, 0.3910198211669922, 0.5157877206802368, -1.0042479038238525, 0.9859649538993835, 1.1333558559417725, 0.8504235148429871, 1.0533899068832397, 0.36917850375175476],
    [0.6104170680046082, 0.4500928223133087],
  ],
};

describe('TorchGenerator: one stream across draws', () => {
  it('continues torch\'s stream through both paths and the cached scalar value', () => {
    const generator = new TorchGenerator(STREAM.seed);
    STREAM.shapes.forEach((shape, k) => {
      expect(firstMismatch(generator.randn(shape), Float32Array.from(STREAM.values[k])), `draw ${k} [${shape}]`).toBeUndefined();
    });
  });

  it.each(manifest.cases.filter((c) => c.shape.length === 1 && c.shape[0] > 1 && c.shape[0] < 16))('seed $seed: randn([$shape]) is the same values as two smaller draws', ({ seed, shape, file }) => {
    const expected = readNpy(readFileSync(new URL(file, vectorDir))).data;
    const generator = new TorchGenerator(seedArgument(seed));
    const head = Math.floor(shape[0] / 2);
    const joined = Float32Array.from([...generator.randn([head]), ...generator.randn([shape[0] - head])]);
    expect(firstMismatch(joined, expected)).toBeUndefined();
  });

  it('gives the first draw exactly as torchRandn does', () => {
    for (const shape of [[7], [1, 3, 8, 8]]) expect(firstMismatch(new TorchGenerator(42).randn(shape), torchRandn(42, shape))).toBeUndefined();
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
