/**
 * A sweep written down: the CSV (one row per run, the JSON record's own field names as its
 * header, so the two files cannot disagree) and the JSON document (the sweep's settings, its
 * references and every run). docs/sweep.md documents each column.
 */
import type { ReferenceRecord, SweepDocument, SweepRecord } from '../../../shared/lab';
import { DIVERGENCE_RMS } from './sweep';

/** The columns, in order: every field of a SweepRecord. */
export const SWEEP_COLUMNS = [
  'seed', 'guidance', 'classifierScale', 'solver', 'spacing', 'steps', 'targetNfe', 'expectedNfe', 'nfe', 'networkRows', 'classifierCalls', 'wallMs',
  'rmsError', 'psnr', 'diverged', 'referenceAccuracy',
] as const satisfies readonly (keyof SweepRecord)[];

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : typeof value === 'number' ? (value > 0 ? 'inf' : value < 0 ? '-inf' : 'nan') : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function sweepCsv(records: readonly SweepRecord[]): string {
  const lines = [SWEEP_COLUMNS.join(',')];
  for (const r of records) lines.push(SWEEP_COLUMNS.map((c) => csvCell(r[c])).join(','));
  return lines.join('\n') + '\n';
}

export type { SweepDocument };

export function sweepDocument(parts: Omit<SweepDocument, 'divergenceRms'>): SweepDocument {
  return { ...parts, divergenceRms: DIVERGENCE_RMS };
}

/** JSON has no Infinity: a PSNR of identical pictures is written as null, like a non-finite one. */
export function sweepJson(doc: SweepDocument): string {
  return JSON.stringify(doc, (_key, value) => (typeof value === 'number' && !Number.isFinite(value) ? null : value), 2) + '\n';
}

const fixed = (v: number | null, digits: number) => (v === null ? 'n/a' : Number.isFinite(v) ? v.toFixed(digits) : 'inf');
const exp = (v: number | null) => (v === null ? 'n/a' : v.toExponential(3));

/** The stdout table: a header, then one line per run as it finishes. */
export const TABLE_HEADER = ['seed', 'cfg', 'cls', 'solver', 'grid', 'steps', 'NFE', 'rows', 'clsf', 'ms', 'rms error', 'PSNR dB', 'diverged'];
const WIDTHS = [5, 5, 5, 8, 9, 6, 5, 6, 6, 8, 11, 8, 8];
const pad = (cells: string[]) => cells.map((c, i) => c.padStart(WIDTHS[i])).join(' ');

export const tableHeader = (): string => pad(TABLE_HEADER);

export function tableLine(r: SweepRecord): string {
  return pad([
    String(r.seed), String(r.guidance), String(r.classifierScale), r.solver, r.spacing, String(r.steps), String(r.nfe), String(r.networkRows),
    String(r.classifierCalls), fixed(r.wallMs, 1), exp(r.rmsError), fixed(r.psnr, 2), r.diverged ? 'DIVERGED' : 'no',
  ]);
}

export function referenceLine(r: ReferenceRecord): string {
  const how = r.method === 'exact-rk4' ? `closed-form RK4, ${r.steps} steps` : `Richardson 2 DDIM(${2 * r.steps}) - DDIM(${r.steps}), ${r.nfe} network calls${r.reused ? ', reused from an earlier sweep' : ''}`;
  const what = r.method === 'exact-rk4' ? 'change from halving its steps' : '|DDIM(2N) - DDIM(N)|';
  return `reference seed ${r.seed}, guidance ${r.guidance}, classifier scale ${r.classifierScale}: ${how}, ${r.wallMs.toFixed(0)} ms; accuracy (${what}) ${exp(r.accuracy)} RMS`;
}
