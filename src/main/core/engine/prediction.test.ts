import { expect, test } from 'vitest';
import { clipAndRederive, predictX0, toEps } from './prediction';

const abar = 0.36; // a = 0.6, s = 0.8
const x0 = Float32Array.from([0.5, -2, 1.5, 0]);
const eps = Float32Array.from([0.3, -1, 0.25, 2]);
const x = x0.map((v, i) => 0.6 * v + 0.8 * eps[i]);

test('epsilon, v_prediction and sample outputs all give the same eps', () => {
  const v = x0.map((v0, i) => 0.6 * eps[i] - 0.8 * v0); // v = a eps - s x0
  for (const [predictionType, raw] of [['epsilon', eps], ['v_prediction', v], ['sample', x0]] as const) {
    const out = new Float32Array(4);
    toEps(Float32Array.from(raw), x, abar, { predictionType, clipRange: null }, out);
    for (let i = 0; i < 4; i++) expect(out[i]).toBeCloseTo(eps[i], 5);
  }
});

test('clipping clips x0 and re-derives eps from it', () => {
  const e = Float32Array.from(eps);
  clipAndRederive(x, abar, 1, e);
  const back = new Float32Array(4);
  predictX0(x, e, abar, back);
  expect(Array.from(back).map((v) => Number(v.toFixed(5)))).toEqual([0.5, -1, 1, 0]);
  // inside the range nothing changes
  expect(e[0]).toBeCloseTo(eps[0], 5);
  expect(e[3]).toBeCloseTo(eps[3], 5);
});
