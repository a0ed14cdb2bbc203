/** What the main process and the engine process say to each other (structured clone). */
import type { CostReport, Settings } from '../../shared/contract';
import type { FieldName } from '../../shared/settingsFields';

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

export type ToEngine = RunJob | { type: 'cancel'; jobId: string } | { type: 'validate'; requestId: string; modelDir: string; providers: string[] };

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
  | { type: 'validated'; requestId: string; ok: true; width: number | null; height: number | null }
  | { type: 'validated'; requestId: string; ok: false; message: string };
