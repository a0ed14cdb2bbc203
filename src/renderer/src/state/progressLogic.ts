/** Progress arithmetic from the engine's progress events: fraction, it/s and ETA. Plain logic. */

export interface ProgressSample {
  step: number;
  steps: number;
  nfe: number;
  nfeTotal: number;
  elapsedMs: number;
}

export interface ProgressStats {
  nfe: number;
  nfeTotal: number;
  step: number;
  steps: number;
  /** 0..1 of the run's network calls. */
  fraction: number;
  /** Solver steps per second, or null before there is anything to measure. */
  itPerSec: number | null;
  /** Milliseconds left, or null when unknown. */
  etaMs: number | null;
}

/**
 * Rates over the last `window` samples (so the first step's warm-up fades out), from the
 * start of the run while there is only one. ETA counts network calls, not steps, since a
 * step's cost differs between solvers (PLMS's start, STSP's two condition evaluations).
 */
export function progressStats(samples: readonly ProgressSample[], window = 8): ProgressStats | null {
  const last = samples.at(-1);
  if (!last) return null;
  const fraction = last.nfeTotal > 0 ? Math.min(1, last.nfe / last.nfeTotal) : last.steps > 0 ? Math.min(1, last.step / last.steps) : 0;
  const first = samples.length > 1 ? samples[Math.max(0, samples.length - window)]! : { step: 0, nfe: 0, elapsedMs: 0 };
  const dt = (last.elapsedMs - first.elapsedMs) / 1000;
  let itPerSec: number | null = null;
  let etaMs: number | null = null;
  if (dt > 0) {
    const dSteps = last.step - first.step;
    itPerSec = dSteps > 0 ? dSteps / dt : null;
    const dNfe = last.nfe - first.nfe;
    const left = Math.max(0, last.nfeTotal - last.nfe);
    etaMs = left === 0 ? 0 : dNfe > 0 ? (left / dNfe) * dt * 1000 : null;
  }
  if (last.nfeTotal > 0 && last.nfe >= last.nfeTotal) etaMs = 0;
  return { nfe: last.nfe, nfeTotal: last.nfeTotal, step: last.step, steps: last.steps, fraction, itPerSec, etaMs };
}

export function formatRate(itPerSec: number | null): string {
  if (itPerSec === null || !Number.isFinite(itPerSec)) return '– it/s';
  if (itPerSec >= 100) return `${Math.round(itPerSec)} it/s`;
  if (itPerSec >= 10) return `${itPerSec.toFixed(1)} it/s`;
  return `${itPerSec.toFixed(2)} it/s`;
}

export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '–';
  if (ms < 1000) return ms <= 0 ? '0 s' : '<1 s';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/** A size for people: 933 B, 4.2 KiB, 310 KiB, 13 MiB (one decimal below 10). */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const [value, unit] = bytes < 1024 ** 2 ? [bytes / 1024, 'KiB'] : bytes < 1024 ** 3 ? [bytes / 1024 ** 2, 'MiB'] : [bytes / 1024 ** 3, 'GiB'];
  return `${value.toFixed(value < 10 ? 1 : 0)} ${unit}`;
}
