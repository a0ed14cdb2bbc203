/** Reusing references: which changes make another guided ODE (another key), and a stored reference is never computed again. */
import { describe, expect, test } from 'vitest';
import type { Settings } from '../../../shared/settings';
import { type Reference, type ReferenceRequest, referenceKey, referenceKeyOf, reusingReference } from './reference';

const base = { prompt: 'red heart', negativePrompt: '', classLabel: null, width: 32, height: 32 } as Settings;
const identity = { modelHashes: { 'unet/model.onnx': 'aa', 'text_encoder/model.onnx': 'bb' }, engineVersion: '0.2.0', steps: 250, settings: base, key: { seed: 0, guidance: 5, classifierScale: 0 } };

describe('the reference key', () => {
  test('the same identity gives the same key, whatever the order of the model files', () => {
    expect(referenceKey(identity)).toBe(referenceKey({ ...identity, modelHashes: { 'text_encoder/model.onnx': 'bb', 'unet/model.onnx': 'aa' } }));
    expect(referenceKey(identity)).toMatch(/^[0-9a-f]{64}$/);
  });

  test('each part of the guided ODE and of its solution changes it', () => {
    const keys = [
      identity,
      { ...identity, modelHashes: { ...identity.modelHashes, 'unet/model.onnx': 'ab' } },
      { ...identity, engineVersion: '0.3.0' },
      { ...identity, steps: 100 },
      { ...identity, settings: { ...base, prompt: 'red apple' } },
      { ...identity, settings: { ...base, negativePrompt: 'blurry' } },
      { ...identity, settings: { ...base, classLabel: 2 } },
      { ...identity, settings: { ...base, width: 64 } },
      { ...identity, key: { ...identity.key, seed: 1 } },
      { ...identity, key: { ...identity.key, guidance: 7.5 } },
      { ...identity, key: { ...identity.key, classifierScale: 10 } },
    ].map(referenceKey);
    expect(new Set(keys).size).toBe(keys.length);
  });
});

test('a reference is computed once per key; the stored one comes back marked reused', async () => {
  const kept = new Map<string, Reference>();
  let computed = 0;
  const solve = async (r: ReferenceRequest): Promise<Reference> => {
    computed++;
    return { x: Float64Array.of(r.seed), picture: Float64Array.of(r.seed), accuracy: 1e-3, method: 'richardson-ddim', steps: 250, wallMs: 10, nfe: 750 };
  };
  const reference = reusingReference(solve, referenceKeyOf(identity.modelHashes, '0.2.0', 250), (k) => kept.get(k) ?? null, (k, r) => void kept.set(k, r));
  const request = (seed: number): ReferenceRequest => ({ seed, guidance: 5, classifierScale: 0, base, noise: new Float32Array(1) });
  const first = await reference(request(3));
  expect(first.reused).toBeUndefined();
  const again = await reference(request(3));
  expect(again).toMatchObject({ reused: true, nfe: 750 });
  expect(Array.from(again.x)).toEqual([3]);
  await reference(request(4));
  expect(computed).toBe(2);
  expect(kept.size).toBe(2);
});
