/**
 * `npm run bench:engine`: the engine on the exact Gaussian-mixture model through ONNX
 * Runtime (CPU), per solver and step count: NFE, guidance evaluations, error against the
 * fine reference, wall time and the share of it spent inside ONNX Runtime; then the
 * engine's own time per step on a 1x4x64x64 state with a network that costs nothing.
 * Figures are medians over repeats. A benchmark, not a test: it prints, it does not judge.
 */
import os from 'node:os';
import { SOLVER_IDS } from '../../src/shared/solvers';
import type { NoisePredictor } from '../../src/main/core/engine/model';
import { torchRandn } from '../../src/main/core/engine/noise/torchRandn';
import { sample } from '../../src/main/core/engine/sampler';
import { DEFAULT_SCHEDULER_CONFIG } from '../../src/main/core/engine/schedule';
import { exactModelDir } from '../../src/main/core/engine/testing/convergence';
import { loadGaussianMixture } from '../../src/main/core/engine/testing/gaussianMixture';
import { solveGuidedOdeReference } from '../../src/main/core/engine/testing/referenceOde';
import { appRoot } from '../../src/main/core/models/catalog';
import { readModelFolder } from '../../src/main/core/models/modelFolder';
import { OnnxClassifier } from '../../src/main/core/pipelines/classifier';
import { openPixelPipeline } from '../../src/main/core/pipelines/pixel';
import { OnnxNoisePredictor } from '../../src/main/core/pipelines/unet';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const REPEATS = quick ? 1 : 3;
const STEPS = [10, 20, 50];
const SCALES = [0, 10];

const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const pad = (v: string | number, n: number) => String(v).padStart(n);

async function onnxSweep(): Promise<void> {
  const dir = exactModelDir('gmm-3x32x32', appRoot());
  const folder = readModelFolder(dir);
  const model = await openPixelPipeline(folder, ['cpu']);
  const classifierSession = (await model.classifierSession())!;
  const gmm = loadGaussianMixture(dir);
  const shape = { channels: gmm.channels, height: gmm.height, width: gmm.width };
  const initial = torchRandn(0, [1, gmm.channels, gmm.height, gmm.width]);
  const label = 1;
  console.log(`exact model ${folder.name} via ONNX Runtime (${model.provider}), seed 0, class ${label}; ${os.cpus()[0]?.model ?? 'cpu'}, ${os.availableParallelism?.() ?? os.cpus().length} cores`);
  console.log(`${'solver'.padEnd(8)} ${pad('scale', 5)} ${pad('steps', 5)} ${pad('NFE', 4)} ${pad('guid', 4)} ${pad('error', 9)} ${pad('wall ms', 8)} ${pad('ORT %', 6)}`);
  for (const scale of SCALES) {
    const reference = solveGuidedOdeReference(gmm, initial, { classifierScale: scale, labels: [label] });
    for (const solver of SOLVER_IDS) {
      for (const steps of STEPS) {
        const walls: number[] = [];
        const shares: number[] = [];
        let last;
        for (let r = 0; r < REPEATS; r++) {
          last = await sample({
            predictor: new OnnxNoisePredictor(model.unet, model.signature, shape),
            classifier: new OnnxClassifier(classifierSession, gmm.numComponents, shape, 'classifier'),
            scheduler: DEFAULT_SCHEDULER_CONFIG,
            shape,
            rows: 1,
            solver,
            steps,
            guidance: scale > 0 ? { classifier: { scale, labels: [label] } } : {},
            initial: Float32Array.from(initial),
          });
          walls.push(last.wallMs);
          shares.push(last.cost.runtimeMs / last.wallMs);
        }
        let sum = 0;
        for (let i = 0; i < last!.x.length; i++) sum += (last!.x[i] - reference[i]) ** 2;
        const error = Math.sqrt(sum / last!.x.length);
        console.log(`${solver.padEnd(8)} ${pad(scale, 5)} ${pad(steps, 5)} ${pad(last!.cost.nfe, 4)} ${pad(last!.cost.guidanceEvaluations, 4)} ${pad(error.toExponential(2), 9)} ${pad(median(walls).toFixed(1), 8)} ${pad((100 * median(shares)).toFixed(1), 6)}`);
      }
    }
  }
}

/** A network that costs nothing: leaves a fixed eps, so only the engine's own work is timed. */
function freeNetwork(sampleSize: number): NoisePredictor {
  return { sampleSize, supportsUnconditional: true, async predict() {} };
}

async function engineOverhead(): Promise<void> {
  const shape = { channels: 4, height: 64, width: 64 };
  const size = 4 * 64 * 64;
  const steps = 50;
  console.log(`\nengine time per step, 1x4x64x64 state, free network, ${steps} steps (median of ${quick ? 3 : 9} runs)`);
  console.log(`${'solver'.padEnd(8)} ${pad('none ms', 8)} ${pad('CFG ms', 8)}`);
  for (const solver of SOLVER_IDS) {
    const perStep: Record<string, number> = {};
    for (const [name, guidance] of [['none', {}], ['cfg', { cfg: 7.5 }]] as const) {
      const runs: number[] = [];
      for (let r = 0; r < (quick ? 3 : 9); r++) {
        const result = await sample({
          predictor: freeNetwork(size),
          scheduler: DEFAULT_SCHEDULER_CONFIG,
          shape,
          rows: 1,
          solver,
          steps,
          guidance,
          conditionAt: 'same-point',
          initial: torchRandn(r, [1, 4, 64, 64]),
        });
        runs.push(result.wallMs / steps);
      }
      perStep[name] = median(runs.slice(1)); // the first run warms the JIT
    }
    console.log(`${solver.padEnd(8)} ${pad(perStep.none.toFixed(3), 8)} ${pad(perStep.cfg.toFixed(3), 8)}`);
  }
}

await onnxSweep();
await engineOverhead();
