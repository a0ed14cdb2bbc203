/**
 * The solver lab's vocabulary: what a sweep asks for, what each run and reference measured and
 * how a saved sweep reads back. Shared by the engine's sweep loop (src/main/core/lab), the CLI
 * (`split-studio sweep`), the studio's contract and the renderer's Lab view. No Node, no DOM,
 * no zod (contract.ts holds the schema the studio validates a LabRequest with).
 */
import type { ConditionPlacement, SpacingName } from './solvers';

export interface SweepSpec {
  solvers: string[];
  /** Either step counts, or network-call budgets (each solver gets the most steps that fit). */
  budget: { kind: 'steps'; values: number[] } | { kind: 'nfe'; values: number[] };
  spacings: SpacingName[];
  /** CFG scales w (1 = conditional only). */
  guidances: number[];
  /** The class of classifier guidance, or null. */
  classLabel: number | null;
  classifierScales: number[];
  prompt: string;
  seeds: number[];
  conditionAt: ConditionPlacement;
}

/** The guided ODE a run solves: runs with the same key share one reference solution. */
export interface OdeKey {
  seed: number;
  guidance: number;
  classifierScale: number;
}

export interface PlannedRun extends OdeKey {
  solver: string;
  spacing: SpacingName;
  steps: number;
  /** The --nfe budget this run was sized to, or null when --steps gave its steps. */
  targetNfe: number | null;
  /** What the engine will count (expectedCost); the run's own count is checked against it. */
  expectedNfe: number;
}

export interface SweepRecord extends PlannedRun {
  nfe: number;
  networkRows: number;
  classifierCalls: number;
  wallMs: number;
  /** RMS of x0 - reference over every value, in model space; null when x0 is not finite. */
  rmsError: number | null;
  /** PSNR in dB of the picture (clamped to [-1, 1], mapped to [0, 1]) against the reference's; null when not finite. */
  psnr: number | null;
  diverged: boolean;
  /** The reference's own estimated RMS error (core/lab/reference.ts). */
  referenceAccuracy: number;
  /**
   * After each step, the RMS distance of that step's x0 prediction (as a picture, in [-1, 1])
   * from the reference's picture; null for a step whose prediction is not finite.
   */
  stepErrors?: (number | null)[];
  /** The run's picture as a small PNG, base64 (the studio's Lab keeps it for the first seed only). */
  picture?: string;
}

export interface ReferenceRecord extends OdeKey {
  method: 'exact-rk4' | 'richardson-ddim';
  steps: number;
  accuracy: number;
  wallMs: number;
  nfe: number;
  /** The reference's picture as a small PNG, base64 (the studio's Lab keeps it for the first seed only). */
  picture?: string;
  /** Reused from an earlier sweep of the same guided ODE (lab.sqlite keeps network models' references); wallMs and nfe are the original computation's. */
  reused?: boolean;
}

/** A sweep written down (the CLI's --json file; what lab.sqlite keeps). */
export interface SweepDocument {
  model: { name: string; dir: string; kind: 'exact' | 'network' };
  spec: SweepSpec;
  divergenceRms: number;
  references: ReferenceRecord[];
  runs: SweepRecord[];
  /** False when the sweep was stopped (Ctrl+C, Cancel) before every planned run. */
  complete: boolean;
  plannedRuns: number;
}

/** One line of the saved sweeps' list. */
export interface SweepSummary {
  id: number;
  createdAt: string;
  modelName: string;
  runs: number;
  plannedRuns: number;
  diverged: number;
  complete: boolean;
}

/** What the studio's Lab asks for: a sweep over network-call budgets, with the reference's own step count. */
export interface LabRequest {
  modelId: string;
  solvers: string[];
  /** Network-call budgets (each solver gets the most steps whose calls fit). */
  nfe: number[];
  spacings: SpacingName[];
  guidances: number[];
  classLabel: number | null;
  classifierScales: number[];
  prompt: string;
  negativePrompt: string;
  seeds: number[];
  /** Richardson reference: 2 DDIM(2N) - DDIM(N) with this N (network models only). */
  referenceSteps: number;
}

/** Bounds of a LabRequest (contract.ts builds its schema from them; the Lab's form says them). */
export const LAB_LIMITS = {
  solvers: { min: 1, max: 6 },
  nfe: { min: 3, max: 500, count: 8 },
  spacings: { count: 3 },
  guidances: { min: 0, max: 30, count: 6 },
  classifierScales: { min: 0, max: 100, count: 6 },
  seeds: { count: 8 },
  /** At most 500: the reference's fine run, DDIM(2N), takes 2N steps, and a run takes at most 1,000 (SETTINGS_LIMITS.steps). */
  referenceSteps: { min: 20, max: 500 },
  /** The most runs one sweep may plan (6 solvers x 8 budgets x 6 scales x 8 seeds would be 2,304). */
  runs: 1000,
} as const;
