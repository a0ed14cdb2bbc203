import { describe, expect, test } from 'vitest';
import { DEFAULT_SCHEDULER_CONFIG, abarFromSigmaBar, alphasCumprod, parseSchedulerConfig, sigmaBar } from './schedule';

describe('alphasCumprod', () => {
  test('linear (DDPM): known endpoints', () => {
    const abar = alphasCumprod(DEFAULT_SCHEDULER_CONFIG);
    expect(abar.length).toBe(1000);
    expect(abar[0]).toBeCloseTo(1 - 1e-4, 12);
    // prod(1 - beta) over the linear schedule; the value DDPM's papers quote: ~4.04e-5.
    expect(abar[999]).toBeGreaterThan(4.0e-5);
    expect(abar[999]).toBeLessThan(4.1e-5);
  });

  test('scaled_linear (Stable Diffusion): abar[999] ~ 0.00468', () => {
    const abar = alphasCumprod({ numTrainTimesteps: 1000, betaSchedule: 'scaled_linear', betaStart: 0.00085, betaEnd: 0.012 });
    expect(abar[0]).toBeCloseTo(1 - 0.00085, 12);
    expect(abar[999]).toBeCloseTo(0.0046, 3);
  });

  test('squaredcos_cap_v2: follows cos^2 and caps beta at 0.999', () => {
    const abar = alphasCumprod({ numTrainTimesteps: 1000, betaSchedule: 'squaredcos_cap_v2', betaStart: 0.0001, betaEnd: 0.02 });
    const f = (t: number) => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
    expect(abar[499]).toBeCloseTo(f(0.5) / f(0), 6);
    // the last beta is capped: abar[999] = abar[998] * (1 - 0.999)
    expect(abar[999] / abar[998]).toBeCloseTo(0.001, 9);
  });

  test('monotone decreasing in (0, 1)', () => {
    for (const betaSchedule of ['linear', 'scaled_linear', 'squaredcos_cap_v2'] as const) {
      const abar = alphasCumprod({ ...DEFAULT_SCHEDULER_CONFIG, betaSchedule });
      for (let i = 1; i < abar.length; i++) expect(abar[i]).toBeLessThan(abar[i - 1]);
      expect(abar[999]).toBeGreaterThan(0);
    }
  });
});

test('sigma-bar maps invert each other', () => {
  for (const abar of [1e-5, 0.3, 0.9999]) expect(abarFromSigmaBar(sigmaBar(abar))).toBeCloseTo(abar, 12);
});

describe('parseSchedulerConfig', () => {
  test('reads diffusers field names and fills defaults (set_alpha_to_one absent: true)', () => {
    const c = parseSchedulerConfig({ beta_schedule: 'scaled_linear', beta_start: 0.00085, beta_end: 0.012, prediction_type: 'v_prediction', steps_offset: 1, timestep_spacing: 'leading' });
    expect(c).toMatchObject({ betaSchedule: 'scaled_linear', predictionType: 'v_prediction', stepsOffset: 1, timestepSpacing: 'leading', setAlphaToOne: true, numTrainTimesteps: 1000, clipSample: false });
    expect(parseSchedulerConfig({ set_alpha_to_one: false }).setAlphaToOne).toBe(false);
  });

  test.each([
    [{ beta_schedule: 'sigmoid' }, /beta_schedule.*one of/],
    [{ prediction_type: 'x0' }, /prediction_type/],
    [{ num_train_timesteps: 0 }, /num_train_timesteps/],
    [{ beta_start: 'a' }, /beta_start/],
    [{ clip_sample: 'yes' }, /clip_sample/],
    [{ trained_betas: [0.1] }, /trained_betas/],
    [[1, 2], /JSON object/],
  ])('rejects %j', (raw, message) => {
    expect(() => parseSchedulerConfig(raw)).toThrow(message);
  });
});
