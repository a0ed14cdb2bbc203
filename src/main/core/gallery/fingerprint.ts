/**
 * A gallery fingerprint: what made an image besides its settings. The constants every writer
 * (the studio's engine process and the CLI) records, the one function that assembles a
 * Fingerprint, so that a re-run from either compares like with like, and the comparison.
 */
import { z } from 'zod';

/** What made an image besides its settings: enough to tell why a re-run might differ. */
export interface Fingerprint {
  engineVersion: string;
  onnxruntimeVersion: string;
  /** The execution provider that ran the model (e.g. "cpu", "cuda"). */
  provider: string;
  /** Model file (path inside the model folder) -> content hash. */
  modelHashes: Record<string, string>;
  /** The noise generator and its implementation details (seed -> initial noise). */
  noiseGenerator: string;
}

export const fingerprintSchema: z.ZodType<Fingerprint> = z
  .object({
    engineVersion: z.string(),
    onnxruntimeVersion: z.string(),
    provider: z.string(),
    modelHashes: z.record(z.string(), z.string()),
    noiseGenerator: z.string(),
  })
  .strict();

/**
 * Bump when a change to the engine can change an image made from the same settings.
 * 0.2.0: dpmpp2m and unipc2 moved from the paper's linspace grid to diffusers' own timesteps,
 * integer timestep inputs are truncated as diffusers' ONNX pipelines do, and stochastic
 * samplers draw their noise from the seed's stream.
 * 0.3.0: split-pc3 above CFG w = 3.5 corrects the diffusion part alone.
 */
export const ENGINE_VERSION = '0.3.0';
/** The seed -> noise implementation (src/main/core/engine/noise): the initial noise, then every ancestral draw from the same stream. */
export const NOISE_GENERATOR = 'torch.randn CPU (MT19937, AVX2 Box-Muller), float32; ancestral draws continue the stream';

export function makeFingerprint(run: { onnxruntimeVersion: string; provider: string; modelHashes: Record<string, string> }): Fingerprint {
  return {
    engineVersion: ENGINE_VERSION,
    onnxruntimeVersion: run.onnxruntimeVersion,
    provider: run.provider,
    modelHashes: { ...run.modelHashes },
    noiseGenerator: NOISE_GENERATOR,
  };
}

/** What differs between two fingerprints, one line each; empty when a re-run should match. */
export function fingerprintDiff(a: Fingerprint, b: Fingerprint): string[] {
  const out: string[] = [];
  const scalar = (label: string, x: string, y: string) => {
    if (x !== y) out.push(`${label}: ${x || '(none)'} → ${y || '(none)'}`);
  };
  scalar('engine version', a.engineVersion, b.engineVersion);
  scalar('onnxruntime version', a.onnxruntimeVersion, b.onnxruntimeVersion);
  scalar('provider', a.provider, b.provider);
  const short = (h: string) => (h.length > 12 ? `${h.slice(0, 12)}…` : h);
  const files = [...new Set([...Object.keys(a.modelHashes), ...Object.keys(b.modelHashes)])].sort();
  for (const file of files) {
    const x = Object.hasOwn(a.modelHashes, file) ? a.modelHashes[file] : undefined;
    const y = Object.hasOwn(b.modelHashes, file) ? b.modelHashes[file] : undefined;
    if (x === y) continue;
    if (x === undefined) out.push(`model file ${file}: added`);
    else if (y === undefined) out.push(`model file ${file}: removed`);
    else out.push(`model file ${file}: hash ${short(x)} → ${short(y)}`);
  }
  scalar('noise generator', a.noiseGenerator, b.noiseGenerator);
  return out;
}
