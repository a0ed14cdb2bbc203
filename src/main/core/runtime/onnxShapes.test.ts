import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, test } from 'vitest';
import { externalDataLocations, fixInputDimensions } from './onnxShapes';
import { openSession } from './sessions';

const root = path.resolve(__dirname, '../../../..');
const epsUnet = path.join(root, 'e2e/fixtures/tiny-sd-eps/unet/model.onnx');
const vUnet = path.join(root, 'e2e/fixtures/tiny-sd-v/unet/model.onnx');

const feeds = (h: number, batch = 2, timestep: 'int64' | 'float32-scalar' = 'int64') => ({
  sample: new ort.Tensor('float32', new Float32Array(batch * 4 * h * h).map((_, i) => Math.sin(i)), [batch, 4, h, h]),
  timestep: timestep === 'int64' ? new ort.Tensor('int64', new BigInt64Array(batch).fill(500n), [batch]) : new ort.Tensor('float32', new Float32Array([500]), []),
  encoder_hidden_states: new ort.Tensor('float32', new Float32Array(batch * 77 * 32).map((_, i) => Math.cos(i)), [batch, 77, 32]),
});

describe('fixed input dimensions (what freeDimensionOverrides would do; onnxruntime-node ignores that option)', () => {
  test('the rewritten model declares the sizes and refuses others; batch stays free', async () => {
    const fixed = await openSession(epsUnet, ['cpu'], 1, { fixedDimensions: { channels: 4, height: 4, width: 4, sequence: 77 } });
    expect(fixed.session.inputMetadata.find((m) => m.name === 'sample')).toMatchObject({ shape: ['batch', 4, 4, 4] });
    expect(fixed.session.inputMetadata.find((m) => m.name === 'encoder_hidden_states')).toMatchObject({ shape: ['batch', 77, 32] });
    const free = await openSession(epsUnet, ['cpu'], 1);
    const a = (await fixed.session.run(feeds(4))).out_sample.data as Float32Array;
    const b = (await free.session.run(feeds(4))).out_sample.data as Float32Array;
    expect(Array.from(a)).toEqual(Array.from(b));
    await expect(fixed.session.run(feeds(6))).rejects.toThrow(/dimension|shape/i);
    await fixed.session.run(feeds(4, 1)); // another batch size: fine
  });

  test('models with external weights (weights.pb) load from bytes with their data', async () => {
    const bytes = readFileSync(vUnet);
    expect(externalDataLocations(bytes)).toEqual(['weights.pb']);
    expect(externalDataLocations(readFileSync(epsUnet))).toEqual([]);
    const fixed = await openSession(vUnet, ['cpu'], 1, { fixedDimensions: { height: 4, width: 4 } });
    const free = await openSession(vUnet, ['cpu'], 1);
    const a = (await fixed.session.run(feeds(4, 2, 'float32-scalar'))).out_sample.data as Float32Array;
    const b = (await free.session.run(feeds(4, 2, 'float32-scalar'))).out_sample.data as Float32Array;
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  test('names that are not in the model leave it unchanged; bad sizes are refused', () => {
    const bytes = readFileSync(epsUnet);
    expect(fixInputDimensions(bytes, { nothing: 3 })).toBe(bytes);
    expect(() => fixInputDimensions(bytes, { height: 0 })).toThrow(/positive integer/);
  });
});
