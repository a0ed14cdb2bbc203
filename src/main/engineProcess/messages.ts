/** What the main process and the engine process say to each other (structured clone). */
import type { Reference } from '../core/lab/reference';
import type { CostReport, Settings } from '../../shared/contract';
import type { FieldName } from '../../shared/settingsFields';
import type { PlannedRun, ReferenceRecord, SweepRecord } from '../../shared/lab';

export interface RunJob {
  type: 'run';
  jobId: string;
  modelDir: string;
  settings: Settings;
  initImage?: Uint8Array;
  mask?: Uint8Array;
  /** The initial noise as a .npy file (a re-run of a CLI generation made with --init-noise). */
  initNoise?: Uint8Array;
  providers: string[];
  /**
   * A re-run with unchanged settings: the original's image file. The engine compares the
   * result's pixels with it (EngineResult.identicalToParent), so that the main process never
   * reads or decodes an image.
   */
  compareWith?: string;
}

/** A Lab sweep (core/lab/sweep.ts), queued with the run jobs: main planned it; the engine runs it and measures each run. */
export interface SweepJob {
  type: 'sweep';
  jobId: string;
  modelDir: string;
  providers: string[];
  runs: PlannedRun[];
  /** What every run shares (txt2img, prompt, class, the model's size); each run fills in its own solver, steps, grid, seed and scales. */
  base: Settings;
  /** N of the Richardson reference 2 DDIM(2N) - DDIM(N) (network models; exact models use their closed form). */
  referenceSteps: number;
  /** Pictures (small PNGs) are kept for this seed's runs and references only. */
  pictureSeed: number;
  /**
   * Network models: each guided ODE's reference key (odeKeyOf -> referenceKey), and the
   * references main found stored under those keys; the engine computes the others and sends
   * them back to be kept. Absent for exact models (their closed form is cheaper than a lookup).
   */
  references?: { keys: Record<string, string>; stored: Record<string, Reference> };
}

export type ToEngine = RunJob | SweepJob | { type: 'cancel'; jobId: string } | { type: 'validate'; requestId: string; modelDir: string; providers: string[] };

export interface EngineResult {
  /**
   * The result as the gallery stores it, encoded here so that the main process encodes
   * nothing: `png` with the gallery's metadata chunks (galleryImage.ts) and `thumbnail`.
   */
  image: { width: number; height: number; png: Uint8Array; thumbnail: Uint8Array };
  /** Only for a job with compareWith: whether the pixels equal that file's; null when it cannot be read. */
  identicalToParent?: boolean | null;
  cost: CostReport;
  provider: string;
  skippedProviders: { provider: string; reason: string }[];
  timesteps: number[];
  warnings: string[];
  samplingMs: number;
  totalMs: number;
  modelHashes: Record<string, string>;
  onnxruntimeVersion: string;
}

export type FromEngine =
  | { type: 'ready' }
  | { type: 'progress'; jobId: string; step: number; steps: number; nfe: number; elapsedMs: number; preview: Uint8Array }
  | { type: 'done'; jobId: string; result: EngineResult }
  | { type: 'failed'; jobId: string; kind: 'settings' | 'cancelled' | 'internal'; message: string; field?: FieldName }
  /** `keep`: a reference computed now under a key (SweepJob.references), for main to store. */
  | { type: 'sweepReference'; jobId: string; reference: ReferenceRecord; elapsedMs: number; keep?: { key: string; reference: Reference } }
  | { type: 'sweepRecord'; jobId: string; record: SweepRecord; elapsedMs: number }
  /** The sweep's end, complete or cancelled after at least one run (a cancel before any run ends it with 'failed', kind 'cancelled'): everything that finished. */
  | { type: 'sweepDone'; jobId: string; references: ReferenceRecord[]; runs: SweepRecord[]; complete: boolean; kind: 'exact' | 'network'; elapsedMs: number }
  | { type: 'validated'; requestId: string; ok: true; width: number | null; height: number | null }
  | { type: 'validated'; requestId: string; ok: false; message: string };
