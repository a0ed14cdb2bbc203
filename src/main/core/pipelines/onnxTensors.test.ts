import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { inputSpecs, openSession } from '../runtime/sessions';
import { floatTensor, tensorToFloat32, timestepFeed } from './onnxTensors';

const root = path.resolve(__dirname, '../../../..');
const unet8 = path.join(root, 'resources/exact/gmm-3x8x8/unet/model.onnx');
const unet32 = path.join(root, 'resources/exact/gmm-3x32x32/unet/model.onnx');

describe('timestep inputs follow the model metadata', () => {
  test('int64 [batch] and float32 [1]', async () => {
    const s8 = inputSpecs((await openSession(unet8, ['cpu'])).session).get('timestep')!;
    expect(s8.type).toBe('int64');
    const t8 = timestepFeed(s8, 500, 3);
    expect(t8.type).toBe('int64');
    expect(t8.dims).toEqual([3]);
    expect(Array.from(t8.data as BigInt64Array)).toEqual([500n, 500n, 500n]);
    const s32 = inputSpecs((await openSession(unet32, ['cpu'])).session).get('timestep')!;
    expect(s32.type).toBe('float32');
    const t32 = timestepFeed(s32, 500, 3);
    expect(t32.dims).toEqual([1]);
    expect(Array.from(t32.data as Float32Array)).toEqual([500]);
  });

  test('scalars, higher ranks (symbolic first dimension = batch, others 1), float16, and unsupported types', () => {
    expect(timestepFeed({ name: 'timestep', type: 'float32', shape: [] }, 7, 2).dims).toEqual([]);
    expect(timestepFeed({ name: 'timestep', type: 'float32', shape: ['batch', 'one'] }, 7, 2).dims).toEqual([2, 1]);
    expect(timestepFeed({ name: 'timestep', type: 'int32', shape: [1, 1] }, 7.4, 2).data).toEqual(Int32Array.from([7]));
    // The nearest step, half to even (as ONNX Round): 52.58 -> 53, 52.5 -> 52, 53.5 -> 54.
    expect(timestepFeed({ name: 'timestep', type: 'int32', shape: [3] }, 52.58, 3).data).toEqual(Int32Array.from([53, 53, 53]));
    expect(timestepFeed({ name: 'timestep', type: 'int64', shape: [1] }, 52.5, 1).data).toEqual(BigInt64Array.from([52n]));
    expect(timestepFeed({ name: 'timestep', type: 'int64', shape: [1] }, 53.5, 1).data).toEqual(BigInt64Array.from([54n]));
    const half = timestepFeed({ name: 'timestep', type: 'float16', shape: ['batch'] }, 999, 2);
    expect(Array.from(tensorToFloat32(half, 'timestep'))).toEqual([999, 999]);
    expect(() => timestepFeed({ name: 'timestep', type: 'string', shape: [1] }, 7, 2)).toThrow(/type string/);
  });
});

test('float tensors convert at the boundary: float16 round-trips values it can hold', () => {
  const values = Float32Array.from([0, 1, -2.5, 0.1]);
  expect(Array.from(tensorToFloat32(floatTensor('float32', values, [4]), 'x'))).toEqual(Array.from(values));
  const back = tensorToFloat32(floatTensor('float16', values, [4]), 'x');
  expect(Array.from(back.subarray(0, 3))).toEqual([0, 1, -2.5]);
  expect(back[3]).toBeCloseTo(0.1, 3);
});
