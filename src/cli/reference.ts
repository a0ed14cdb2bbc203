/**
 * `split-studio generate --solver reference`: on an exact model (a folder with gmm.json), the
 * closed-form Gaussian mixture's guided ODE solved from the seed's x_T by the float64 reference
 * solver the sweep measures against (core/lab/reference.ts exactReference: classical RK4, 2000
 * steps uniform in asinh(sb / 0.3)), with its accuracy estimate (the RMS change from halving its
 * steps). It writes the picture (--out) and x0 (--dump-x0) but records nothing in the gallery:
 * the gallery records a solver, and the reference is not one (it could not be re-run from the
 * gallery or the PNG's settings). A network model has no closed form: `split-studio sweep`
 * measures against Richardson-extrapolated DDIM there.
 */
import path from 'node:path';
import type { Settings } from '../shared/settings';
import { torchRandn } from '../main/core/engine/noise/torchRandn';
import { encodeNpy, readNpy } from '../main/core/io/npy';
import { encodePng } from '../main/core/io/png';
import { exactMixture, exactReference } from '../main/core/lab/reference';
import type { ModelFolder } from '../main/core/models/modelFolder';
import { firstNonFinite } from '../main/core/pipelines/common';
import { tensorToImage } from '../main/core/pipelines/images';
import { type ParsedFlags, UsageError, stringFlag } from './args';
import { MAX_NPY_BYTES, checkOutputPath, readInputFile, round, stageFile } from './run';

export const REFERENCE_SOLVER = 'reference';

/** Flags that size or shape a solver's run; the reference has its own steps and takes none of them. */
const NOT_FOR_REFERENCE = ['steps', 'spacing', 'timesteps', 'eta', 'condition-at', 'batch', 'init-image', 'mask', 'strength', 'consistency-scale', 'clip-x0', 'negative'];

export async function generateReference(flags: ParsedFlags, folder: ModelFolder, settings: Settings): Promise<void> {
  const gmm = exactMixture(folder.dir);
  if (!gmm) {
    throw new UsageError(
      `--solver reference: ${folder.name} is a network model, with no closed form to solve; ` +
        'use `split-studio sweep`, which measures solvers against a Richardson-extrapolated DDIM reference (docs/sweep.md)',
    );
  }
  const given = NOT_FOR_REFERENCE.find((f) => flags.has(f));
  if (given !== undefined) throw new UsageError(`--${given} does not apply to --solver reference (the closed form solved by RK4 in 2000 steps, from pure noise)`);
  if (settings.task !== 'txt2img') throw new UsageError('--solver reference solves the guided ODE from pure noise: --task must be txt2img');
  if (settings.guidance !== 1) throw new UsageError(`${folder.name} is an exact model with no unconditional branch: --guidance must be 1 (use --class and --classifier-scale)`);
  if (settings.prompt !== '') throw new UsageError(`--prompt: ${folder.name} has no text encoder, so a prompt cannot be used`);
  const width = settings.width || gmm.width;
  const height = settings.height || gmm.height;
  if (width !== gmm.width || height !== gmm.height) throw new UsageError(`--solver reference: ${folder.name} is ${gmm.width}x${gmm.height}; its closed form has no other size`);
  const shape = [1, gmm.channels, gmm.height, gmm.width];
  const json = flags.has('json');
  const out = checkOutputPath(stringFlag(flags, 'out') ?? `split-studio-reference-${settings.seed}.png`, '--out');
  const dump = flags.has('dump-x0') ? checkOutputPath(stringFlag(flags, 'dump-x0')!, '--dump-x0') : undefined;

  let noise: Float32Array;
  const noiseFile = stringFlag(flags, 'init-noise');
  if (noiseFile !== undefined) {
    try {
      noise = readNpy(readInputFile(noiseFile, '--init-noise', MAX_NPY_BYTES)).data;
    } catch (error) {
      throw new UsageError(error instanceof UsageError ? error.message : `--init-noise ${noiseFile}: ${(error as Error).message}`);
    }
    if (noise.length !== gmm.dim) throw new UsageError(`--init-noise ${noiseFile}: ${noise.length} values; ${folder.name} needs ${shape.join('x')} = ${gmm.dim}`);
    const bad = firstNonFinite(noise);
    if (bad !== -1) throw new UsageError(`--init-noise ${noiseFile}: value ${bad} is ${noise[bad]}; noise must be finite numbers`);
  } else {
    // The x_T a solver's run with this seed starts from (torch.randn(1, C, H, W) seeded by it).
    noise = torchRandn(settings.seed, shape);
  }
  const classifierScale = settings.classLabel === null ? 0 : settings.classifierScale;
  const started = performance.now();
  const reference = await exactReference(gmm)({ seed: settings.seed, guidance: 1, classifierScale, noise, base: { ...settings, width, height } });
  const x = Float32Array.from(reference.x);
  const image = tensorToImage(x, gmm.channels, width, height);
  const staged = [stageFile(out, encodePng({ width, height, channels: 4, data: image.data }), '--out')];
  if (dump !== undefined) {
    try {
      staged.push(stageFile(dump, encodeNpy(x, shape), '--dump-x0'));
    } catch (error) {
      staged[0].discard();
      throw error;
    }
  }
  for (const file of staged) file.commit();
  const ms = round(performance.now() - started);
  const report = {
    generationId: null,
    gallery: 'not recorded: the gallery records a solver, and the reference is not one',
    outputs: { image: path.resolve(out), ...(dump !== undefined ? { x0: path.resolve(dump) } : {}) },
    model: { name: folder.name, dir: folder.dir },
    settings: { seed: settings.seed, classLabel: settings.classLabel, classifierScale, width, height, ...(noiseFile !== undefined ? { initNoise: path.resolve(noiseFile) } : {}) },
    reference: { method: reference.method, steps: reference.steps, accuracy: reference.accuracy, accuracyMeaning: 'RMS change of x0 from halving its steps', wallMs: ms },
  };
  if (json) {
    process.stdout.write(JSON.stringify(report) + '\n');
    return;
  }
  process.stdout.write(
    `${report.outputs.image}  (reference: closed-form RK4, ${reference.steps} steps in float64, ${ms} ms; ` +
      `accuracy ${reference.accuracy.toExponential(3)} RMS, the change from halving its steps)\n`,
  );
  process.stdout.write('not recorded in the gallery: the reference is not a solver (its picture cannot be re-run from there)\n');
}
