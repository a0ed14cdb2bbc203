import { expect, test } from 'vitest';
import { ADAMS_BASHFORTH_WEIGHTS, AdamsBashforthHistory } from './adamsBashforth';

test('weights of every order sum to one (consistency)', () => {
  for (const w of ADAMS_BASHFORTH_WEIGHTS) expect(w.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
});

test('AB-k integrates polynomials of degree k-1 exactly on a uniform grid', () => {
  // e(t) = t^(k-1) sampled at t = 0..k-1, newest last; AB-k predicts the mean over [k-1, k].
  for (let k = 1; k <= 4; k++) {
    const w = ADAMS_BASHFORTH_WEIGHTS[k - 1];
    const f = (t: number) => t ** (k - 1);
    let predicted = 0;
    for (let j = 0; j < k; j++) predicted += w[j] * f(k - 1 - j);
    const exact = (k ** k - (k - 1) ** k) / k; // integral of t^(k-1) over [k-1, k]
    expect(predicted).toBeCloseTo(exact, 10);
  }
});

test('history warms up through the lower orders and keeps order-1 entries (reference plms_mixer)', () => {
  const h = new AdamsBashforthHistory(3, 1);
  const out = new Float32Array(1);
  const orders = [1, 2, 3, 4, 5].map((v) => h.pushAndMix(Float32Array.of(v), out));
  expect(orders).toEqual([1, 2, 3, 3, 3]);
  // last mix used entries 5, 4, 3: (23*5 - 16*4 + 5*3)/12
  expect(out[0]).toBeCloseTo((23 * 5 - 16 * 4 + 5 * 3) / 12, 5);
  expect(h.length).toBe(2);
});

test('never mutates the caller\'s array', () => {
  const h = new AdamsBashforthHistory(2, 2);
  const e = Float32Array.of(1, 2);
  h.pushAndMix(e, new Float32Array(2));
  e[0] = 100;
  const out = new Float32Array(2);
  h.pushAndMix(Float32Array.of(3, 4), out);
  expect(Array.from(out)).toEqual([(3 * 3 - 1) / 2, (3 * 4 - 2) / 2]);
});
