/**
 * The time grids of diffusers' sigma-space and multistep schedulers, as their own `set_timesteps`
 * builds them for a model's scheduler_config (docs/samplers.md §4.4), so that euler, euler-a,
 * heun, dpmpp2m and unipc2 visit exactly diffusers' noise levels and hand the network exactly
 * diffusers' timesteps:
 *
 *  - EulerDiscreteScheduler, EulerAncestralDiscreteScheduler, HeunDiscreteScheduler ('sigma'):
 *    linspace is np.linspace(0, T-1, N) in float32, unrounded; leading k*(T//N) + steps_offset;
 *    trailing round(arange(T, 0, -T/N)) - 1; sigmas interpolated linearly in t in the float32 sigma
 *    table; the timesteps handed to the network are these float32 values (fractional on linspace).
 *  - DPMSolverMultistepScheduler ('dpm'), UniPCMultistepScheduler ('unipc'): linspace is
 *    round(np.linspace(0, T-1, N+1)) reversed without its last (0); leading k*(T//(N+1)) +
 *    steps_offset for k = N..1; trailing as above; whole-number timesteps.
 *  - karras (use_karras_sigmas, Karras et al. 2022 eq. 5 with rho = 7): sigma_i =
 *    (s_max^(1/7) + i/(N-1) (s_min^(1/7) - s_max^(1/7)))^7. The range is the first and last sigma
 *    of the class's own grid for the model's timestep_spacing (Euler, Heun) or the ends of the
 *    training table (DPM++, UniPC); timesteps are the log-sigma interpolation `_sigma_to_t`,
 *    fractional for Euler/Heun, rounded half to even for DPM++/UniPC (truncated for DPM++ on
 *    squaredcos_cap_v2, where diffusers skips the rounding and the int64 cast truncates).
 *  - logsnr: uniform in lambda = log(alpha/sigma) = -log(sigma) between the same ends: diffusers'
 *    use_exponential_sigmas for Euler/Heun (exp of a linspace of log sigma) and use_lu_lambdas for
 *    DPM++ (the same in numpy's float32 log table, timesteps rounded); UniPC has no such option and
 *    gets DPM++'s grid.
 *  - an explicit list (set_timesteps(timesteps=...)): those timesteps, sigmas interpolated.
 * Every grid ends with sigma 0 (final_sigmas_type "zero"). init_noise_sigma is 1 for DPM++/UniPC;
 * for the Euler family it is sigma_max when the config's timestep_spacing is linspace or trailing
 * and sqrt(sigma_max^2 + 1) when it is leading.
 *
 * The numbers follow diffusers' precision: the alphas_cumprod table is float32 (torch.linspace of
 * the betas as torch's AVX2 CPU kernel computes it, cumprod accumulated in double), the sigma
 * table float32, interpolation in float64 (numpy), the log-sigma table numpy's float32 log, and
 * the final sigmas and Euler timesteps rounded to float32. The vectors in
 * solvers/vectors/diffusers_vectors.json check every grid element for element.
 */
import { f32, fmaf, numpyLogf } from './float32';
import type { SchedulerConfig, TimestepSpacing } from './schedule';
import { roundHalfEven } from './spacing';

/** Whose set_timesteps: the Euler family ('sigma'), DPMSolverMultistep ('dpm') or UniPCMultistep ('unipc'). */
export type SigmaGridKind = 'sigma' | 'dpm' | 'unipc';
export type NamedGrid = TimestepSpacing | 'karras' | 'logsnr';
export type GridSpacing = NamedGrid | { explicit: readonly number[] };

export interface SigmaGrid {
  /** The timestep handed to the network for each step's (first) evaluation. */
  readonly timesteps: readonly number[];
  /** float32 sigmas: one per step, then the final 0. */
  readonly sigmas: readonly number[];
  /** diffusers' init_noise_sigma: the initial latents are the noise times this. */
  readonly initNoiseSigma: number;
}

export interface DiffusersTables {
  /** float32 alphas_cumprod as the schedulers' __init__ computes it. */
  readonly alphasCumprod: Float32Array;
  /** float32 ((1 - abar)/abar)^0.5. */
  readonly sigmas: Float32Array;
  /** numpy's float32 log of `sigmas`. */
  readonly logSigmas: Float32Array;
}

type TableConfig = Pick<SchedulerConfig, 'numTrainTimesteps' | 'betaSchedule' | 'betaStart' | 'betaEnd'>;
const tableCache = new Map<string, DiffusersTables>();

/** torch.linspace(start, end, n, dtype=float32) on the CPU with AVX2 (8-lane vectors, FMA-contracted). */
export function torchLinspaceF32(start: number, end: number, n: number): Float32Array {
  const out = new Float32Array(n);
  if (n === 0) return out;
  const s = f32(start);
  const e = f32(end);
  if (n === 1) {
    out[0] = s;
    return out;
  }
  const step = f32(f32(e - s) / (n - 1));
  const half = Math.floor(n / 2);
  // Each element is `start + step*idx` below halfway and `end - step*(n-1-idx)` above it, fused.
  const scalar = (idx: number) => (idx < half ? fmaf(step, idx, s) : fmaf(-step, n - idx - 1, e));
  let i = 0;
  // cpu_serial_kernel_vec fills two 8-lane vectors per round: lane k of the vector that starts
  // at idx is base + k*step, with base computed as above at idx; the rest element by element.
  for (; i + 16 <= n; i += 16) {
    for (const idx of [i, i + 8]) {
      const base = scalar(idx);
      for (let k = 0; k < 8; k++) out[idx + k] = f32(base + f32(k * step));
    }
  }
  for (; i < n; i++) out[i] = scalar(i);
  return out;
}

/** The float32 tables every one of these diffusers schedulers builds in __init__. */
export function diffusersTables(config: TableConfig): DiffusersTables {
  const key = `${config.numTrainTimesteps}/${config.betaSchedule}/${config.betaStart}/${config.betaEnd}`;
  const cached = tableCache.get(key);
  if (cached) return cached;
  const T = config.numTrainTimesteps;
  let betas: Float32Array;
  switch (config.betaSchedule) {
    case 'linear':
      betas = torchLinspaceF32(config.betaStart, config.betaEnd, T);
      break;
    case 'scaled_linear':
      betas = torchLinspaceF32(Math.sqrt(config.betaStart), Math.sqrt(config.betaEnd), T).map((b) => f32(b * b));
      break;
    case 'squaredcos_cap_v2': {
      // betas_for_alpha_bar: Python floats, then torch.tensor(..., float32).
      const abarAt = (t: number) => Math.cos((((t + 0.008) / 1.008) * Math.PI) / 2) ** 2;
      betas = Float32Array.from({ length: T }, (_, i) => Math.min(1 - abarAt((i + 1) / T) / abarAt(i / T), 0.999));
      break;
    }
  }
  const alphasCumprod = new Float32Array(T);
  let product = 1; // torch's CPU cumprod accumulates float32 in double
  for (let i = 0; i < T; i++) {
    product *= f32(1 - betas[i]);
    alphasCumprod[i] = product;
  }
  const sigmas = alphasCumprod.map((a) => Math.sqrt(f32(f32(1 - a) / a)));
  const logSigmas = sigmas.map(numpyLogf);
  const tables = { alphasCumprod, sigmas, logSigmas };
  tableCache.set(key, tables);
  return tables;
}

/** np.linspace(start, stop, n) in float64: k*step + start, the last value exactly stop. */
function numpyLinspace(start: number, stop: number, n: number): number[] {
  if (n === 1) return [start];
  const step = (stop - start) / (n - 1);
  return Array.from({ length: n }, (_, k) => (k === n - 1 ? stop : k * step + start));
}

/** np.arange(start, stop, step) for floats: length ceil((stop - start)/step), v_i = start + i*((start + step) - start). */
function numpyArange(start: number, stop: number, step: number): number[] {
  const length = Math.max(0, Math.ceil((stop - start) / step));
  const delta = start + step - start;
  return Array.from({ length }, (_, i) => (i === 0 ? start : i === 1 ? start + step : start + i * delta));
}

/** np.interp(t, arange(T), table) in float64 (numpy's compiled_interp). */
function interpSigma(t: number, table: Float32Array): number {
  const last = table.length - 1;
  if (t <= 0) return table[0];
  if (t >= last) return table[last];
  const j = Math.floor(t);
  if (j === t) return table[j];
  const slope = table[j + 1] - table[j];
  return slope * (t - j) + table[j];
}

/**
 * diffusers' `_sigma_to_t`: the fractional timestep where log(sigma) falls in the float32
 * log-sigma table, interpolated linearly. With numpy 1.x's value-based casting the float64
 * log(sigma) meets float32 arrays, so the bracket and the weight are float32 arithmetic; only
 * the final blend of the two whole-number indices is float64.
 */
export function sigmaToT(sigma: number, logSigmas: Float32Array): number {
  const logSigma = f32(Math.log(Math.max(sigma, 1e-10)));
  let low = 0;
  for (let i = 0; i < logSigmas.length; i++) if (logSigma >= logSigmas[i]) low = i;
  low = Math.min(low, logSigmas.length - 2);
  const lo = logSigmas[low];
  const hi = logSigmas[low + 1];
  let w = f32(f32(lo - logSigma) / f32(lo - hi));
  w = Math.min(Math.max(w, 0), 1);
  return f32(1 - w) * low + w * (low + 1);
}

/** Karras et al. 2022, eq. 5 with rho = 7, as diffusers' `_convert_to_karras` computes it. */
function karrasSigmas(sigmaMax: number, sigmaMin: number, n: number): number[] {
  const rho = 7;
  const minInv = sigmaMin ** (1 / rho);
  const maxInv = sigmaMax ** (1 / rho);
  return numpyLinspace(0, 1, n).map((r) => (maxInv + r * (minInv - maxInv)) ** rho);
}

/** Sigmas uniform in log sigma (= uniform in lambda = -log sigma), from sigmaMax down to sigmaMin. */
function logUniformSigmas(logMax: number, logMin: number, n: number): number[] {
  return numpyLinspace(logMax, logMin, n).map(Math.exp);
}

/** diffusers' `_convert_to_lu` (rho = 1): lambda_max + ramp (lambda_min - lambda_max), then exp. */
function luSigmas(logMax: number, logMin: number, n: number): number[] {
  return numpyLinspace(0, 1, n).map((r) => Math.exp(logMax + r * (logMin - logMax)));
}

/** The class's base timesteps for a diffusers timestep_spacing (float64 values before any float32 cast). */
function baseTimesteps(kind: SigmaGridKind, spacing: TimestepSpacing, N: number, config: SchedulerConfig): number[] {
  const T = config.numTrainTimesteps;
  switch (spacing) {
    case 'linspace':
      return kind === 'sigma' ? numpyLinspace(0, T - 1, N).reverse() : numpyLinspace(0, T - 1, N + 1).map(roundHalfEven).reverse().slice(0, N);
    case 'leading': {
      const ratio = kind === 'sigma' ? Math.floor(T / N) : Math.floor(T / (N + 1));
      const ks = kind === 'sigma' ? Array.from({ length: N }, (_, k) => N - 1 - k) : Array.from({ length: N }, (_, k) => N - k);
      return ks.map((k) => k * ratio + config.stepsOffset);
    }
    case 'trailing':
      return numpyArange(T, 0, -T / N).map((v) => roundHalfEven(v) - 1);
  }
}

/**
 * The grid of an N-step run (docs/samplers.md §4.4). `spacing` replaces the config's
 * timestep_spacing when it names one; karras, logsnr and explicit lists keep the config's.
 */
export function diffusersSigmaGrid(kind: SigmaGridKind, spacing: GridSpacing, steps: number, config: SchedulerConfig): SigmaGrid {
  const { sigmas: table, logSigmas } = diffusersTables(config);
  const T = config.numTrainTimesteps;
  const configSpacing: TimestepSpacing = typeof spacing === 'string' && spacing !== 'karras' && spacing !== 'logsnr' ? spacing : config.timestepSpacing;
  // A one-step run starts at T-1 under every spacing (docs/samplers.md §4.1), where diffusers'
  // Euler linspace would put its only step at t = 0.
  const base = typeof spacing === 'object' ? [...spacing.explicit] : steps === 1 ? [T - 1] : baseTimesteps(kind, configSpacing, steps, config);
  const asTimestep = (t: number) => (kind === 'sigma' ? f32(t) : t);
  let timesteps = base.map(asTimestep);
  let sigmas = timesteps.map((t) => interpSigma(t, table));
  if (spacing === 'karras' || spacing === 'logsnr') {
    // Euler/Heun take the range from their own grid; DPM++/UniPC from the whole table.
    const [sigmaMax, sigmaMin] = kind === 'sigma' ? [sigmas[0], sigmas[sigmas.length - 1]] : [table[T - 1], table[0]];
    if (spacing === 'karras') sigmas = karrasSigmas(sigmaMax, sigmaMin, steps);
    else sigmas = kind === 'sigma' ? logUniformSigmas(Math.log(sigmaMax), Math.log(sigmaMin), steps) : luSigmas(logSigmas[T - 1], logSigmas[0], steps);
    const fractional = sigmas.map((s) => sigmaToT(s, logSigmas));
    if (kind === 'sigma') timesteps = fractional.map(f32);
    // DPM++ leaves cosine-schedule timesteps unrounded and its int64 cast truncates them.
    else timesteps = fractional.map(kind === 'dpm' && config.betaSchedule === 'squaredcos_cap_v2' ? Math.trunc : roundHalfEven);
  }
  const sigmas32 = [...sigmas.map(f32), 0];
  let initNoiseSigma = 1;
  if (kind === 'sigma') {
    const sigmaMax = Math.max(...sigmas32);
    initNoiseSigma = configSpacing === 'leading' ? f32(Math.sqrt(f32(f32(sigmaMax * sigmaMax) + 1))) : sigmaMax;
  }
  return { timesteps, sigmas: sigmas32, initNoiseSigma };
}
