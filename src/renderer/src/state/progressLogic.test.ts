import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, formatRate, progressStats } from './progressLogic';

const sample = (step: number, elapsedMs: number, steps = 20, nfePerStep = 1) => ({ step, steps, nfe: step * nfePerStep, nfeTotal: steps * nfePerStep, elapsedMs });

describe('progressStats', () => {
  it('is null before any event', () => {
    expect(progressStats([])).toBeNull();
  });

  it('measures from the start with one sample', () => {
    const s = progressStats([sample(2, 1000)])!;
    expect(s.itPerSec).toBeCloseTo(2);
    expect(s.etaMs).toBeCloseTo(9000);
    expect(s.fraction).toBeCloseTo(0.1);
  });

  it('uses the recent window so a slow first step fades out', () => {
    const samples = [sample(1, 5000), ...Array.from({ length: 10 }, (_, i) => sample(i + 2, 5000 + (i + 1) * 100))];
    const s = progressStats(samples, 4)!;
    expect(s.itPerSec).toBeCloseTo(10);
    expect(s.etaMs).toBeCloseTo(900);
  });

  it('counts ETA in network calls', () => {
    const s = progressStats([sample(1, 1000, 10, 2), sample(2, 2000, 10, 2)])!;
    expect(s.itPerSec).toBeCloseTo(1);
    expect(s.nfe).toBe(4);
    expect(s.etaMs).toBeCloseTo(8000);
  });

  it('reports 0 left at the end and no rate without elapsed time', () => {
    expect(progressStats([sample(20, 4000)])!.etaMs).toBe(0);
    const s = progressStats([sample(1, 0)])!;
    expect(s.itPerSec).toBeNull();
    expect(s.etaMs).toBeNull();
  });
});

describe('formatting', () => {
  it('formats rates and durations', () => {
    expect(formatRate(3.456)).toBe('3.46 it/s');
    expect(formatRate(null)).toBe('– it/s');
    expect(formatDuration(400)).toBe('<1 s');
    expect(formatDuration(12_400)).toBe('12 s');
    expect(formatDuration(65_000)).toBe('1 min 05 s');
    expect(formatDuration(null)).toBe('–');
  });
});

describe('formatBytes', () => {
  it('uses the unit that keeps the number short', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(933)).toBe('933 B');
    expect(formatBytes(4300)).toBe('4.2 KiB');
    expect(formatBytes(317_000)).toBe('310 KiB');
    expect(formatBytes(5_242_880)).toBe('5.0 MiB');
    expect(formatBytes(13_107_200)).toBe('13 MiB');
    expect(formatBytes(3 * 1024 ** 3)).toBe('3.0 GiB');
  });
});
