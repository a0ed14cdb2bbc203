/**
 * What the engine needs from a network. Implemented by the ONNX pipelines
 * (src/main/core/pipelines) and, in tests, by closed-form models. No ONNX types here.
 */
import type { CostReport } from '../../../shared/solvers';

/** `uncond` = negative/empty prompt; `cond` = the prompt (or the only branch of an unconditional model). */
export type Branch = 'cond' | 'uncond';

export interface NoisePredictor {
  /** Elements of one sample (C*H*W). */
  readonly sampleSize: number;
  /** True when the network has an unconditional branch (text or class conditioning). */
  readonly supportsUnconditional: boolean;
  /**
   * Raw network output for `rows` samples of x at one training timestep. With several
   * branches the rows are evaluated in one batched call, x repeated once per branch, and
   * `out` receives the blocks in the order given (branches.length * rows samples).
   */
  predict(x: Float32Array, rows: number, timestep: number, branches: readonly Branch[], out: Float32Array): Promise<void>;
}

export interface ClassifierGradient {
  readonly numClasses: number;
  /** grad_x log p(y | x_t) for each row's label, into `out` (same layout as x). */
  gradLogProb(x: Float32Array, rows: number, timestep: number, labels: readonly number[], out: Float32Array): Promise<void>;
}

/** Counts what a run costs (a batched CFG call is one NFE and two rows); the sampler reports these, never estimates. */
export interface CostCounter extends CostReport {
  /** Milliseconds spent inside network calls (the model runtime). */
  runtimeMs: number;
}

/** The counts the gallery keeps, without the run's timing. */
export function costReport(counter: CostReport): CostReport {
  return { nfe: counter.nfe, networkRows: counter.networkRows, guidanceEvaluations: counter.guidanceEvaluations, classifierCalls: counter.classifierCalls };
}

export const newCostCounter = (): CostCounter => ({ nfe: 0, networkRows: 0, guidanceEvaluations: 0, classifierCalls: 0, runtimeMs: 0 });

export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

/** Wraps a predictor so every call is counted, timed and preceded by a cancellation check. */
export function countingPredictor(inner: NoisePredictor, cost: CostCounter, signal?: AbortSignal): NoisePredictor {
  return {
    sampleSize: inner.sampleSize,
    supportsUnconditional: inner.supportsUnconditional,
    async predict(x, rows, timestep, branches, out) {
      if (signal?.aborted) throw new CancelledError();
      const started = performance.now();
      await inner.predict(x, rows, timestep, branches, out);
      cost.runtimeMs += performance.now() - started;
      cost.nfe += 1;
      cost.networkRows += rows * branches.length;
    },
  };
}

export function countingClassifier(inner: ClassifierGradient, cost: CostCounter, signal?: AbortSignal): ClassifierGradient {
  return {
    numClasses: inner.numClasses,
    async gradLogProb(x, rows, timestep, labels, out) {
      if (signal?.aborted) throw new CancelledError();
      const started = performance.now();
      await inner.gradLogProb(x, rows, timestep, labels, out);
      cost.runtimeMs += performance.now() - started;
      cost.classifierCalls += 1;
    },
  };
}
