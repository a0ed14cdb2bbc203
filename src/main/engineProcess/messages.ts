/** What the main process and the engine process say to each other (structured clone). */
import type { CostReport, Settings } from '../../shared/contract';

export interface RunJob {
  type: 'run';
  jobId: string;
  modelDir: string;
  settings: Settings;
  initImage?: Uint8Array;
  mask?: Uint8Array;
  providers: string[];
}

export type ToEngine = RunJob | { type: 'cancel'; jobId: string } | { type: 'validate'; requestId: string; modelDir: string; providers: string[] };

export interface EngineResult {
  image: { width: number; height: number; data: Uint8Array };
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
  | { type: 'failed'; jobId: string; kind: 'settings' | 'cancelled' | 'internal'; message: string }
  | { type: 'validated'; requestId: string; ok: true; width: number | null; height: number | null }
  | { type: 'validated'; requestId: string; ok: false; message: string };
