/** Saved sweeps: what is saved reads back, newest first, across a reopen; a bad document is named. */
import BetterSqlite3 from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import type { SweepDocument } from './report';
import { LAB_DATABASE_FILE, SweepStore } from './store';
import type { SweepRecord } from './sweep';

const run = (over: Partial<SweepRecord>): SweepRecord => ({
  seed: 0, guidance: 1, classifierScale: 10, solver: 'stsp4', spacing: 'linspace', steps: 10, targetNfe: 10, expectedNfe: 10,
  nfe: 10, networkRows: 10, classifierCalls: 20, wallMs: 5, rmsError: 0.01, psnr: 40, diverged: false, referenceAccuracy: 3e-11, ...over,
} as SweepRecord);

const doc = (runs: SweepRecord[], complete = true): SweepDocument => ({
  model: { name: 'Exact Gaussian mixture 3x8x8', dir: '/m', kind: 'exact' },
  spec: { solvers: ['stsp4', 'ddim'], budget: { kind: 'steps', values: [10] }, spacings: ['linspace'], guidances: [1], classLabel: 1, classifierScales: [10], prompt: '', seeds: [0], conditionAt: 'exact' },
  divergenceRms: 1, references: [], runs, complete, plannedRuns: 2,
});

const opened: SweepStore[] = [];
const open = (dir: string) => {
  const s = SweepStore.open(dir);
  opened.push(s);
  return s;
};
afterEach(() => {
  for (const s of opened.splice(0)) s.close();
});

describe('SweepStore', () => {
  test('saves sweeps and reads them back after a reopen, newest first', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'split-lab-'));
    const first = open(dir).save(doc([run({}), run({ solver: 'ddim', rmsError: 0.1, psnr: Infinity })]), new Date('2026-12-01T04:00:00Z'));
    const second = open(dir).save(doc([run({ diverged: true, rmsError: null, psnr: null })], false), new Date('2026-12-01T05:00:00Z'));
    expect(second).toBeGreaterThan(first);
    const again = open(dir);
    expect(again.list()).toEqual([
      { id: second, createdAt: '2026-12-01T05:00:00.000Z', modelName: 'Exact Gaussian mixture 3x8x8', runs: 1, plannedRuns: 2, diverged: 1, complete: false },
      { id: first, createdAt: '2026-12-01T04:00:00.000Z', modelName: 'Exact Gaussian mixture 3x8x8', runs: 2, plannedRuns: 2, diverged: 0, complete: true },
    ]);
    const back = again.get(first)!;
    expect(back.runs.map((r) => [r.solver, r.rmsError, r.psnr])).toEqual([['stsp4', 0.01, 40], ['ddim', 0.1, null]]);
    expect(back.spec).toEqual(doc([]).spec);
    expect(again.get(second + 100)).toBeNull();
  });

  test('a document that does not read back is named, not returned half-read', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'split-lab-'));
    const id = open(dir).save(doc([run({})]));
    const db = new BetterSqlite3(path.join(dir, LAB_DATABASE_FILE));
    db.prepare('UPDATE sweeps SET document_json = ? WHERE id = ?').run(JSON.stringify({ model: { name: 'x' } }), id);
    db.close();
    expect(() => open(dir).get(id)).toThrow(new RegExp(`sweep ${id} in .*lab\\.sqlite cannot be read back`));
  });
});

describe('stored references', () => {
  const reference = (v: number) => ({
    x: Float64Array.from([v, -0.25, 1 / 3]), picture: Float64Array.from([v, 0.5, Math.PI]), accuracy: 2.2e-3, method: 'richardson-ddim' as const, steps: 250, wallMs: 11565.3, nfe: 750,
  });

  test('a reference reads back bit for bit across a reopen, and a later one for the same key replaces it', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'split-refs-'));
    open(dir).saveReference('k1', reference(0.1));
    const back = open(dir).reference('k1')!;
    expect(back).toEqual(reference(0.1));
    expect(Array.from(back.picture)).toEqual([0.1, 0.5, Math.PI]);
    expect(open(dir).reference('k2')).toBeNull();
    open(dir).saveReference('k1', reference(0.7));
    expect(open(dir).reference('k1')!.x[0]).toBe(0.7);
  });
});
