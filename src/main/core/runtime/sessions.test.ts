import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { defaultThreads, openSession, parseProviders } from './sessions';

const root = path.resolve(__dirname, '../../../..');
const unet8 = path.join(root, 'resources/exact/gmm-3x8x8/unet/model.onnx');
const unet32 = path.join(root, 'resources/exact/gmm-3x32x32/unet/model.onnx');

describe('openSession', () => {
  test('tries providers one at a time and reports why each skipped one failed', async () => {
    const opened = await openSession(unet8, ['cuda', 'dml', 'cpu']);
    expect(opened.provider).toBe('cpu');
    expect(opened.skipped.map((s) => s.provider)).toEqual(['cuda', 'dml']);
    for (const s of opened.skipped) expect(s.reason.length).toBeGreaterThan(5);
  });

  test('fails with every reason when no provider works', async () => {
    await expect(openSession(unet8, ['dml'])).rejects.toThrow(/could not open .* \(dml: /);
  });

  test('a file that is not an ONNX model fails clearly', async () => {
    await expect(openSession(path.join(root, 'package.json'), ['cpu'])).rejects.toThrow(/could not open .*package\.json.*cpu:/);
  });
});

test('provider lists are validated', () => {
  expect(parseProviders('CUDA, cpu')).toEqual(['cuda', 'cpu']);
  expect(() => parseProviders('tpu')).toThrow(/unknown execution provider "tpu"/);
  expect(() => parseProviders(',')).toThrow(/at least one/);
});

test('thread count leaves the machine responsive', () => {
  const n = defaultThreads();
  expect(n).toBeGreaterThanOrEqual(1);
  expect(n).toBeLessThanOrEqual(8);
});
