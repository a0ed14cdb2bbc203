import { describe, expect, test } from 'vitest';
import type { ModelSummary } from '../../../shared/contract';
import type { SweepRecord } from '../../../shared/lab';
import { cellColour, cells, defaultTolerance, errorSeries, labDefaults, labRequestOf, parseNumberList, stabilityGrid, suggestBudgets } from './labLogic';

const textModel: ModelSummary = {
  id: '/models/noto', name: 'Noto', kind: 'pixel', width: 32, height: 32, hasText: true, classLabels: ['smileys', 'animals'], tasks: ['txt2img'],
  defaults: { guidance: 5 }, spacing: 'linspace', builtin: true,
};
const exactModel: ModelSummary = { ...textModel, id: '/models/gmm', name: 'GMM', hasText: false, classLabels: ['a', 'b', 'c'], defaults: {}, forTesting: true };

function record(solver: string, nfe: number, seed: number, rmsError: number | null, extra: Partial<SweepRecord> = {}): SweepRecord {
  return {
    seed, guidance: 5, classifierScale: 0, solver, spacing: 'linspace', steps: nfe, targetNfe: nfe, expectedNfe: nfe, nfe, networkRows: 2 * nfe, classifierCalls: 0,
    wallMs: nfe * 2, rmsError, psnr: rmsError === null ? null : 30, diverged: rmsError === null || rmsError > 1, referenceAccuracy: 1e-4, ...extra,
  };
}

describe('the Lab form', () => {
  test('number lists: values, and a specific message for the first bad one', () => {
    const limits = { min: 3, max: 500, count: 4 };
    expect(parseNumberList('10, 15  20;30', 'Calls', limits, true)).toEqual([10, 15, 20, 30]);
    expect(parseNumberList('', 'Calls', limits)).toBe('Calls: type at least one number');
    expect(parseNumberList('10, x', 'Calls', limits)).toBe('Calls: "x" is not a number');
    expect(parseNumberList('10.5', 'Calls', limits, true)).toBe('Calls: 10.5 is not a whole number');
    expect(parseNumberList('2', 'Calls', limits)).toBe('Calls: 2 is outside 3–500');
    expect(parseNumberList('10, 10', 'Calls', limits)).toBe('Calls: 10 is listed twice');
    expect(parseNumberList('4 5 6 7 8', 'Calls', limits)).toBe('Calls: at most 4 values (got 5)');
  });

  test('a text model sweeps CFG with its prompt; an exact model sweeps the classifier scale of a class', () => {
    const text = labRequestOf(textModel, labDefaults(textModel, 'red heart'));
    expect(text).toMatchObject({ modelId: '/models/noto', solvers: ['ddim', 'stsp4', 'dpmpp2m'], nfe: [10, 15, 20, 30], guidances: [5], classifierScales: [0], classLabel: null, prompt: 'red heart', seeds: [0] });
    const exact = labRequestOf(exactModel, { ...labDefaults(exactModel, 'ignored'), guidances: '0, 10, 20', nfe: '30 8' });
    expect(exact).toMatchObject({ guidances: [1], classifierScales: [0, 10, 20], classLabel: 1, prompt: '', nfe: [8, 30] });
    expect(labRequestOf(textModel, { ...labDefaults(textModel, ''), solvers: [] })).toBe('pick at least one solver');
    // an empty studio prompt would make CFG's two branches the same: the Lab starts from a real one
    expect(labDefaults(textModel, '  ').prompt).toBe('red apple on a blue background');
    expect(labRequestOf(textModel, { ...labDefaults(textModel, ''), guidances: '5, 50' })).toBe('Guidance: 50 is outside 0–30');
  });
});

describe('sweep results', () => {
  const records = [
    record('ddim', 10, 0, 0.2), record('ddim', 10, 1, 0.1), record('ddim', 20, 0, 0.05), record('ddim', 20, 1, 0.07),
    record('plms4', 10, 0, null), record('plms4', 10, 1, 0.3), record('plms4', 20, 0, 0.01), record('plms4', 20, 1, 0.02),
  ];

  test('cells: mean and sample spread over the seeds that converged; diverged runs counted apart', () => {
    const all = cells(records);
    const ddim10 = all.find((c) => c.solver === 'ddim' && c.budget === 10)!;
    expect(ddim10.meanError).toBeCloseTo(0.15, 12);
    expect(ddim10.spread).toBeCloseTo(Math.sqrt(0.005), 12);
    expect(ddim10).toMatchObject({ runs: 2, diverged: 0, meanNfe: 10, meanMs: 20 });
    const plms10 = all.find((c) => c.solver === 'plms4' && c.budget === 10)!;
    expect(plms10).toMatchObject({ meanError: 0.3, spread: 0, runs: 2, diverged: 1 });
  });

  test('the error plot: budgets on x, one series per solver', () => {
    const { x, series } = errorSeries(cells(records), 5);
    expect(x).toEqual([10, 20]);
    expect(series.map((s) => s.key)).toEqual(['ddim|linspace', 'plms4|linspace']);
    expect(series[1].y[0]).toBeCloseTo(0.3, 12);
    expect(errorSeries(cells([record('ddim', 10, 0, null)]), 5).series[0].y).toEqual([null]);
  });

  test('the stability map: strongest guidance on top, a red cell where a run diverged', () => {
    const strong = records.map((r) => ({ ...r, guidance: 10, rmsError: r.solver === 'plms4' ? null : r.rmsError, diverged: r.solver === 'plms4' || r.diverged }));
    const all = cells([...records, ...strong]);
    const grid = stabilityGrid(all, 'plms4|linspace');
    expect(grid.scales).toEqual([10, 5]);
    expect(grid.budgets).toEqual([10, 20]);
    expect(cellColour(grid.cell(10, 20), 0.01, 0.3)).toBe('#c0392b');
    expect(cellColour(grid.cell(5, 20), 0.01, 0.3)).toMatch(/^hsl\(/);
    expect(cellColour(undefined, 0.01, 0.3)).toBe('transparent');
  });

  test('the step budget: fewest calls whose every seed converged within the tolerance, and its time here', () => {
    const all = cells(records);
    const rows = suggestBudgets(records, all, 5, 0.1);
    expect(rows.find((r) => r.solver === 'ddim')).toMatchObject({ budget: 20, expectedMs: 40 });
    // PLMS-4 at 10 calls has a mean of 0.3 and a diverged seed: 20 calls is its first budget.
    expect(rows.find((r) => r.solver === 'plms4')).toMatchObject({ budget: 20 });
    expect(suggestBudgets(records, all, 5, 1e-6).every((r) => r.budget === null && r.largestTried === 20)).toBe(true);
    // DDIM's own error at its largest budget is where the tolerance starts.
    expect(defaultTolerance(all, 5)).toBe(0.06);
    // rounded up, so that DDIM meets it at its largest budget
    const ddimAt = (e: number) => cells([record('ddim', 30, 0, e)]);
    expect(defaultTolerance(ddimAt(0.0431), 5)).toBe(0.044);
    expect(suggestBudgets([record('ddim', 30, 0, 0.0431)], ddimAt(0.0431), 5, defaultTolerance(ddimAt(0.0431), 5))[0].budget).toBe(30);
  });
});
