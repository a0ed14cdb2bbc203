/**
 * The engine's side of a gallery fingerprint: the constants every writer (the studio's service
 * and the CLI) records, and the one function that assembles a Fingerprint, so that a re-run
 * from either compares like with like (fingerprintDiff in store.ts).
 */
import type { Fingerprint } from './store';

/** Bump when a change to the engine can change an image made from the same settings. */
export const ENGINE_VERSION = '0.1.0';
/** The seed -> initial-noise implementation (src/main/core/engine/noise). */
export const NOISE_GENERATOR = 'torch.randn CPU (MT19937, AVX2 Box-Muller), float32';

export function makeFingerprint(run: { onnxruntimeVersion: string; provider: string; modelHashes: Record<string, string> }): Fingerprint {
  return {
    engineVersion: ENGINE_VERSION,
    onnxruntimeVersion: run.onnxruntimeVersion,
    provider: run.provider,
    modelHashes: { ...run.modelHashes },
    noiseGenerator: NOISE_GENERATOR,
  };
}
