/**
 * Noise schedules of discrete VP diffusion models, read from a model folder's
 * scheduler/scheduler_config.json (diffusers' field names).
 *
 * Everything is computed in float64, as the reference code (guided_diffusion) does.
 */

export type BetaSchedule = 'linear' | 'scaled_linear' | 'squaredcos_cap_v2';
export type PredictionType = 'epsilon' | 'v_prediction' | 'sample';
export type TimestepSpacing = 'linspace' | 'leading' | 'trailing';

export interface SchedulerConfig {
  numTrainTimesteps: number;
  betaSchedule: BetaSchedule;
  betaStart: number;
  betaEnd: number;
  predictionType: PredictionType;
  /** Pixel-space models: clip every x0 prediction and re-derive eps (docs/samplers.md §2.2). */
  clipSample: boolean;
  clipSampleRange: number;
  /** The final step ends at abar = 1 when true (the default), else at abar[0]. */
  setAlphaToOne: boolean;
  timestepSpacing: TimestepSpacing;
  stepsOffset: number;
}

export const DEFAULT_SCHEDULER_CONFIG: SchedulerConfig = {
  numTrainTimesteps: 1000,
  betaSchedule: 'linear',
  betaStart: 0.0001,
  betaEnd: 0.02,
  predictionType: 'epsilon',
  clipSample: false,
  clipSampleRange: 1,
  setAlphaToOne: true,
  timestepSpacing: 'linspace',
  stepsOffset: 0,
};

/** Parses diffusers' scheduler_config.json; throws a message naming the bad field. */
export function parseSchedulerConfig(raw: unknown, where = 'scheduler_config.json'): SchedulerConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new Error(`${where}: expected a JSON object`);
  }
  const r = raw as Record<string, unknown>;
  const d = DEFAULT_SCHEDULER_CONFIG;
  const num = (key: string, fallback: number, check: (v: number) => boolean, what: string): number => {
    const v = r[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || !check(v)) {
      throw new Error(`${where}: "${key}" must be ${what}, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  const oneOf = <T extends string>(key: string, fallback: T, allowed: readonly T[]): T => {
    const v = r[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'string' || !allowed.includes(v as T)) {
      throw new Error(`${where}: "${key}" must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
    }
    return v as T;
  };
  const bool = (key: string, fallback: boolean): boolean => {
    const v = r[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') throw new Error(`${where}: "${key}" must be true or false, got ${JSON.stringify(v)}`);
    return v;
  };
  if (r.trained_betas !== undefined && r.trained_betas !== null) {
    throw new Error(`${where}: "trained_betas" is not supported; use a named beta_schedule`);
  }
  const config: SchedulerConfig = {
    numTrainTimesteps: num('num_train_timesteps', d.numTrainTimesteps, (v) => Number.isInteger(v) && v >= 2 && v <= 100_000, 'an integer from 2 to 100000'),
    betaSchedule: oneOf('beta_schedule', d.betaSchedule, ['linear', 'scaled_linear', 'squaredcos_cap_v2']),
    betaStart: num('beta_start', d.betaStart, (v) => v > 0 && v < 1, 'in (0, 1)'),
    betaEnd: num('beta_end', d.betaEnd, (v) => v > 0 && v < 1, 'in (0, 1)'),
    predictionType: oneOf('prediction_type', d.predictionType, ['epsilon', 'v_prediction', 'sample']),
    clipSample: bool('clip_sample', d.clipSample),
    clipSampleRange: num('clip_sample_range', d.clipSampleRange, (v) => v > 0, 'positive'),
    setAlphaToOne: bool('set_alpha_to_one', d.setAlphaToOne),
    timestepSpacing: oneOf('timestep_spacing', d.timestepSpacing, ['linspace', 'leading', 'trailing']),
    stepsOffset: num('steps_offset', d.stepsOffset, (v) => Number.isInteger(v) && v >= 0, 'a non-negative integer'),
  };
  return config;
}

/** abar[t] = prod_{s<=t} (1 - beta_s), t = 0..T-1, float64. */
export function alphasCumprod(config: Pick<SchedulerConfig, 'numTrainTimesteps' | 'betaSchedule' | 'betaStart' | 'betaEnd'>): Float64Array {
  const T = config.numTrainTimesteps;
  const betas = new Float64Array(T);
  switch (config.betaSchedule) {
    case 'linear':
      for (let i = 0; i < T; i++) betas[i] = config.betaStart + ((config.betaEnd - config.betaStart) * i) / (T - 1);
      break;
    case 'scaled_linear': {
      // Stable Diffusion: linear in sqrt(beta), then squared.
      const a = Math.sqrt(config.betaStart);
      const b = Math.sqrt(config.betaEnd);
      for (let i = 0; i < T; i++) betas[i] = (a + ((b - a) * i) / (T - 1)) ** 2;
      break;
    }
    case 'squaredcos_cap_v2': {
      // Nichol & Dhariwal (2021), eq. 17, with beta capped at 0.999.
      const abarAt = (t: number) => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
      for (let i = 0; i < T; i++) betas[i] = Math.min(1 - abarAt((i + 1) / T) / abarAt(i / T), 0.999);
      break;
    }
  }
  const abar = new Float64Array(T);
  let prod = 1;
  for (let i = 0; i < T; i++) {
    prod *= 1 - betas[i];
    abar[i] = prod;
  }
  return abar;
}

/** sigma-bar: the ODE's time variable, sb = sqrt(1-abar)/sqrt(abar). */
export const sigmaBar = (abar: number): number => Math.sqrt(1 - abar) / Math.sqrt(abar);
/** Inverse of sigmaBar: abar = 1/(sb^2 + 1). */
export const abarFromSigmaBar = (sb: number): number => 1 / (sb * sb + 1);
