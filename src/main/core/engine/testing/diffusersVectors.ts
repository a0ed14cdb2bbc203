/**
 * The reference vectors from diffusers' own schedulers (solvers/vectors/diffusers_vectors.json,
 * written by tools/vectors/make_diffusers_vectors.py): their shape, and how a case's
 * scheduler_config overrides and spacing read in the engine's terms. Shared by the grid and
 * solver tests.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { GridSpacing } from '../diffusersGrid';
import { type SchedulerConfig, parseSchedulerConfig } from '../schedule';

export interface DiffusersCase {
  id: string;
  solver: string;
  scheduler: string;
  spacing: string;
  steps: number;
  overrides: Record<string, unknown>;
  eta?: number;
  classifier_scale: number;
  label: number | null;
  timesteps: number[];
  sigmas?: number[];
  ddim_prev_timesteps?: number[];
  init_noise_sigma: number;
  nfe: number;
  classifier_calls: number;
  noise_draws: number;
  final: number[];
  float32_spread: number;
}

export interface DiffusersVectors {
  model: string;
  model_sha256: string;
  scheduler_config: unknown;
  seed: number;
  shape: number[];
  alphas_cumprod_float32: number[];
  initial_noise: number[];
  noise_stream: number[][];
  cases: DiffusersCase[];
}

export function loadDiffusersVectors(): DiffusersVectors {
  return JSON.parse(readFileSync(fileURLToPath(new URL('../solvers/vectors/diffusers_vectors.json', import.meta.url)), 'utf8'));
}

/** The case's scheduler_config (the model's, with the case's overrides) and the engine's spacing for it. */
export function caseConfig(vectors: DiffusersVectors, c: DiffusersCase): { scheduler: SchedulerConfig; spacing: GridSpacing } {
  const scheduler = parseSchedulerConfig(vectors.scheduler_config);
  if (typeof c.overrides.timestep_spacing === 'string') scheduler.timestepSpacing = c.overrides.timestep_spacing as SchedulerConfig['timestepSpacing'];
  if (typeof c.overrides.steps_offset === 'number') scheduler.stepsOffset = c.overrides.steps_offset;
  return { scheduler, spacing: c.spacing as GridSpacing };
}

/** A case's name for the agreement table: solver (with DDIM's eta) and grid. */
export const gridName = (c: DiffusersCase) => `${c.solver}${c.eta === undefined ? '' : `-eta${c.eta}`}/${c.spacing}`;
