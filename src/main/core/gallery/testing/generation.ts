/**
 * A valid generation for the gallery's tests (store, inputs, reconcile, search): what
 * store.add() takes, with the settings and anything else overridable.
 */
import type { Settings } from '../../../../shared/contract';
import type { Fingerprint, NewGeneration } from '../store';

export const TEST_SETTINGS: Settings = {
  task: 'txt2img', prompt: 'a red fox in the snow', negativePrompt: 'blurry, watermark', classLabel: null, classifierScale: 0, solver: 'stsp4',
  steps: 20, guidance: 3, conditionAt: 'exact', consistencyScale: 0.01, seed: 42, width: 8, height: 8, spacing: 'linspace', clipX0: null, strength: 1,
};

export const TEST_FINGERPRINT: Fingerprint = {
  engineVersion: '0.1.0',
  onnxruntimeVersion: '1.30.0',
  provider: 'cpu',
  modelHashes: { 'unet/model.onnx': 'a'.repeat(64) },
  noiseGenerator: 'torch.randn CPU (MT19937), float32',
};

export function testGeneration(over: Omit<Partial<NewGeneration>, 'settings'> & { settings?: Partial<Settings> } = {}): NewGeneration {
  const { settings, ...rest } = over;
  const data = new Uint8Array(8 * 8 * 4);
  for (let i = 0; i < data.length; i++) data[i] = i % 4 === 3 ? 255 : (i * 37) & 0xff;
  return {
    modelId: '/models/pixel-8x8',
    modelName: 'pixel-8x8',
    modelHash: 'abcdef1234',
    provider: 'cpu',
    cost: { nfe: 20, networkRows: 40, guidanceEvaluations: 20, classifierCalls: 0 },
    durationMs: 10,
    warnings: [],
    parentId: null,
    fingerprint: TEST_FINGERPRINT,
    image: { width: 8, height: 8, data },
    ...rest,
    settings: { ...TEST_SETTINGS, ...settings },
  };
}
