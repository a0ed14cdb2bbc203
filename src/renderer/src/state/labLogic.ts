/**
 * The Lab view's arithmetic, pure: the form's number lists, the sweep's records grouped by
 * solver and budget (mean and spread over seeds), the series the error plot draws, the
 * stability map's cells and the step-budget suggestion. No DOM, no Svelte.
 */
import type { LabRequest, SweepRecord } from '../../../shared/lab';
import { LAB_LIMITS } from '../../../shared/lab';
import type { ModelSummary } from '../../../shared/contract';
import { type SpacingName, solverInfo } from '../../../shared/solvers';

/** "8, 12, 16" -> [8, 12, 16]; a specific message for the first value that is not one. */
export function parseNumberList(text: string, what: string, limits: { min: number; max: number; count: number }, integer = false): number[] | string {
  const parts = text.split(/[\s,;]+/).filter((p) => p !== '');
  if (parts.length === 0) return `${what}: type at least one number`;
  if (parts.length > limits.count) return `${what}: at most ${limits.count} values (got ${parts.length})`;
  const values: number[] = [];
  for (const part of parts) {
    const value = Number(part);
    if (!Number.isFinite(value)) return `${what}: "${part}" is not a number`;
    if (integer && !Number.isInteger(value)) return `${what}: ${part} is not a whole number`;
    if (value < limits.min || value > limits.max) return `${what}: ${part} is outside ${limits.min}–${limits.max}`;
    if (values.includes(value)) return `${what}: ${part} is listed twice`;
    values.push(value);
  }
  return values;
}

/** Which guidance the model's sweeps vary: CFG for text models, the classifier's scale for class models. */
export type GuidanceAxis = 'cfg' | 'classifier';

export function guidanceAxisOf(model: Pick<ModelSummary, 'hasText' | 'classLabels'>): GuidanceAxis {
  return model.hasText || !model.classLabels ? 'cfg' : 'classifier';
}

/** The Lab form's values as typed (lists as text, so that a half-typed list is kept). */
export interface LabFormValues {
  solvers: string[];
  nfe: string;
  spacing: SpacingName;
  guidances: string;
  classLabel: number | null;
  prompt: string;
  seeds: string;
  referenceSteps: number;
}

/** The Lab's prompt when the studio's is empty: guidance toward nothing would measure nothing. */
export const LAB_FALLBACK_PROMPT = 'red apple on a blue background';

/** Three solvers worth comparing, budgets around the default 20 calls, the model's own guidance and the studio's prompt. */
export function labDefaults(model: ModelSummary, prompt: string): LabFormValues {
  const axis = guidanceAxisOf(model);
  const guidance = axis === 'cfg' ? (model.defaults.guidance ?? 5) : (model.defaults.classifierScale || 10);
  return {
    solvers: ['ddim', 'stsp4', 'dpmpp2m'],
    nfe: '10, 15, 20, 30',
    spacing: 'linspace',
    guidances: String(guidance),
    classLabel: axis === 'classifier' ? Math.min(1, (model.classLabels?.length ?? 1) - 1) : null,
    prompt: model.hasText ? prompt.trim() || LAB_FALLBACK_PROMPT : '',
    seeds: '0',
    referenceSteps: 250,
  };
}

/** The request the form describes, or the first thing wrong with it. */
export function labRequestOf(model: ModelSummary, values: LabFormValues): LabRequest | string {
  const { solvers } = values;
  if (solvers.length < LAB_LIMITS.solvers.min) return 'pick at least one solver';
  if (solvers.length > LAB_LIMITS.solvers.max) return `at most ${LAB_LIMITS.solvers.max} solvers at once`;
  const nfe = parseNumberList(values.nfe, 'Network calls', LAB_LIMITS.nfe, true);
  if (typeof nfe === 'string') return nfe;
  const seeds = parseNumberList(values.seeds, 'Seeds', { min: 0, max: 2 ** 32 - 1, count: LAB_LIMITS.seeds.count }, true);
  if (typeof seeds === 'string') return seeds;
  const axis = guidanceAxisOf(model);
  const limits = axis === 'cfg' ? LAB_LIMITS.guidances : LAB_LIMITS.classifierScales;
  const scales = parseNumberList(values.guidances, axis === 'cfg' ? 'Guidance' : 'Classifier scale', limits);
  if (typeof scales === 'string') return scales;
  return {
    modelId: model.id,
    solvers: [...solvers],
    nfe: [...nfe].sort((a, b) => a - b),
    spacings: [values.spacing],
    guidances: axis === 'cfg' ? scales : [1],
    classLabel: axis === 'classifier' ? values.classLabel : null,
    classifierScales: axis === 'classifier' ? scales : [0],
    prompt: values.prompt,
    negativePrompt: '',
    seeds,
    referenceSteps: values.referenceSteps,
  };
}

/** The guidance a record was run at, on the model's axis. */
export const scaleOf = (r: Pick<SweepRecord, 'guidance' | 'classifierScale'>, axis: GuidanceAxis): number => (axis === 'cfg' ? r.guidance : r.classifierScale);

/** A sweep's axis: classifier when any run used a classifier scale, CFG otherwise. */
export const axisOfRecords = (records: readonly SweepRecord[]): GuidanceAxis => (records.some((r) => r.classifierScale > 0) ? 'classifier' : 'cfg');

/** One solver on one grid at one budget and guidance, over its seeds. */
export interface Cell {
  solver: string;
  spacing: SpacingName;
  scale: number;
  budget: number;
  /** Mean of the runs that did not diverge; null when every run diverged. */
  meanError: number | null;
  /** Sample standard deviation over those runs (0 for one run). */
  spread: number;
  runs: number;
  diverged: number;
  meanNfe: number;
  meanMs: number;
  meanPsnr: number | null;
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const sampleSd = (values: number[]) => {
  if (values.length < 2) return 0;
  const m = mean(values);
  return Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / (values.length - 1));
};

/** A run's budget: the NFE it was sized to, or its calls when it was sized in steps. */
export const budgetOf = (r: SweepRecord): number => r.targetNfe ?? r.nfe;

export const seriesKey = (solver: string, spacing: string): string => `${solver}|${spacing}`;

export function seriesLabel(solver: string, spacing: string, spacings: number): string {
  const label = solverInfo(solver).label;
  return spacings > 1 ? `${label} (${spacing})` : label;
}

/** Every (solver, grid, guidance, budget) with its runs summarised, in the sweep's order. */
export function cells(records: readonly SweepRecord[], axis: GuidanceAxis = axisOfRecords(records)): Cell[] {
  const groups = new Map<string, SweepRecord[]>();
  for (const r of records) {
    const key = `${seriesKey(r.solver, r.spacing)}|${scaleOf(r, axis)}|${budgetOf(r)}`;
    const group = groups.get(key);
    if (group) group.push(r);
    else groups.set(key, [r]);
  }
  return [...groups.values()].map((runs) => {
    const ok = runs.filter((r) => !r.diverged && r.rmsError !== null);
    const errors = ok.map((r) => r.rmsError as number);
    const psnrs = ok.map((r) => r.psnr).filter((p): p is number => p !== null && Number.isFinite(p));
    return {
      solver: runs[0].solver,
      spacing: runs[0].spacing,
      scale: scaleOf(runs[0], axis),
      budget: budgetOf(runs[0]),
      meanError: errors.length ? mean(errors) : null,
      spread: sampleSd(errors),
      runs: runs.length,
      diverged: runs.length - ok.length,
      meanNfe: mean(runs.map((r) => r.nfe)),
      meanMs: mean(runs.map((r) => r.wallMs)),
      meanPsnr: psnrs.length ? mean(psnrs) : null,
    };
  });
}

const sortedUnique = (values: number[]) => [...new Set(values)].sort((a, b) => a - b);

/** Error against network calls at one guidance: x the budgets, one series per solver and grid (null where every run diverged). */
export function errorSeries(all: readonly Cell[], scale: number): { x: number[]; series: { key: string; solver: string; spacing: SpacingName; y: (number | null)[] }[] } {
  const at = all.filter((c) => c.scale === scale);
  const x = sortedUnique(at.map((c) => c.budget));
  const keys = [...new Set(at.map((c) => seriesKey(c.solver, c.spacing)))];
  const series = keys.map((key) => {
    const mine = at.filter((c) => seriesKey(c.solver, c.spacing) === key);
    return { key, solver: mine[0].solver, spacing: mine[0].spacing, y: x.map((b) => mine.find((c) => c.budget === b)?.meanError ?? null) };
  });
  return { x, series };
}

/** The stability map of one solver and grid: rows the guidance scales (strongest first), columns the budgets. */
export function stabilityGrid(all: readonly Cell[], key: string): { scales: number[]; budgets: number[]; cell: (scale: number, budget: number) => Cell | undefined } {
  const mine = all.filter((c) => seriesKey(c.solver, c.spacing) === key);
  return {
    scales: sortedUnique(mine.map((c) => c.scale)).reverse(),
    budgets: sortedUnique(mine.map((c) => c.budget)),
    cell: (scale, budget) => mine.find((c) => c.scale === scale && c.budget === budget),
  };
}

/** Map colour for a cell: diverged runs red; otherwise green (small error) to amber (large), on a log scale between `best` and `worst`. */
export function cellColour(cell: Cell | undefined, best: number, worst: number): string {
  if (!cell) return 'transparent';
  if (cell.diverged > 0 || cell.meanError === null) return '#c0392b';
  const span = Math.log(worst) - Math.log(best);
  const t = span > 0 ? Math.min(1, Math.max(0, (Math.log(cell.meanError) - Math.log(best)) / span)) : 0;
  const hue = 130 - 95 * t; // green (130) to amber (35)
  return `hsl(${hue.toFixed(0)} 55% ${(38 + 6 * t).toFixed(0)}%)`;
}

export interface BudgetSuggestion {
  key: string;
  solver: string;
  spacing: SpacingName;
  /** The smallest budget whose every run converged with mean error <= tolerance, or null. */
  budget: number | null;
  meanError: number | null;
  /** Expected wall time at that budget on this machine: its calls times this solver's median ms per call in the sweep. */
  expectedMs: number | null;
  /** The most budget tried, for "not within N calls". */
  largestTried: number;
}

const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

/** Per solver and grid at one guidance: the fewest network calls reaching `tolerance` (RMS error), and its expected time. */
export function suggestBudgets(records: readonly SweepRecord[], all: readonly Cell[], scale: number, tolerance: number, axis: GuidanceAxis = axisOfRecords(records)): BudgetSuggestion[] {
  const at = all.filter((c) => c.scale === scale);
  const keys = [...new Set(at.map((c) => seriesKey(c.solver, c.spacing)))];
  return keys.map((key) => {
    const mine = at.filter((c) => seriesKey(c.solver, c.spacing) === key).sort((a, b) => a.budget - b.budget);
    const hit = mine.find((c) => c.diverged === 0 && c.meanError !== null && c.meanError <= tolerance);
    const runs = records.filter((r) => seriesKey(r.solver, r.spacing) === key && scaleOf(r, axis) === scale && r.nfe > 0);
    const msPerCall = runs.length ? median(runs.map((r) => r.wallMs / r.nfe)) : null;
    return {
      key,
      solver: mine[0].solver,
      spacing: mine[0].spacing,
      budget: hit?.budget ?? null,
      meanError: hit?.meanError ?? null,
      expectedMs: hit && msPerCall !== null ? hit.meanNfe * msPerCall : null,
      largestTried: mine[mine.length - 1].budget,
    };
  });
}

/** A tolerance worth starting from: the error DDIM reaches at its largest budget (rounded up), else 0.05 RMS. */
export function defaultTolerance(all: readonly Cell[], scale: number): number {
  const ddim = all.filter((c) => c.solver === 'ddim' && c.scale === scale && c.meanError !== null).sort((a, b) => b.budget - a.budget)[0];
  if (!ddim?.meanError) return 0.05;
  // Two significant figures, rounded up, so that DDIM itself meets the tolerance it set.
  const unit = 10 ** (Math.floor(Math.log10(ddim.meanError)) - 1);
  return Number((Math.ceil(ddim.meanError / unit - 1e-9) * unit).toPrecision(2));
}

/** "1.23e-2" for errors: three significant figures, exponent form (errors span decades). */
export const formatError = (v: number | null): string => (v === null ? '—' : v.toExponential(2));
