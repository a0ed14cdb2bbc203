/**
 * The Lab view's state: its form, the sweep it runs in the engine process (progress, cancel),
 * the records and references that came back, and the saved sweeps it can reopen.
 */
import type { ModelSummary, StudioApi, StudioEvents } from '../../../shared/contract';
import type { ReferenceRecord, SweepRecord, SweepSpec, SweepSummary } from '../../../shared/lab';
import { toCallError } from '../transport';
import { type LabFormValues, axisOfRecords, cells, labDefaults, labRequestOf } from './labLogic';

export type LabPhase = 'idle' | 'starting' | 'running' | 'cancelling' | 'done' | 'cancelled' | 'failed';

/** The sweep on show: a running one, or a saved one reopened. */
export interface ShownSweep {
  /** The saved sweep's id (null while it runs). */
  id: number | null;
  modelName: string;
  spec: Pick<SweepSpec, 'solvers' | 'seeds' | 'prompt'> | null;
  plannedRuns: number;
  complete: boolean;
}

export class LabState {
  values = $state<LabFormValues | null>(null);
  /** The model the form's defaults came from. */
  #formModel: string | null = null;
  phase = $state<LabPhase>('idle');
  jobId = $state<string | null>(null);
  completed = $state(0);
  plannedRuns = $state(0);
  elapsedMs = $state(0);
  /** A refusal of the request, or why the sweep failed. */
  error = $state<string | null>(null);
  skipped = $state.raw<string[]>([]);
  records = $state.raw<SweepRecord[]>([]);
  references = $state.raw<ReferenceRecord[]>([]);
  shown = $state.raw<ShownSweep | null>(null);
  saved = $state.raw<SweepSummary[]>([]);
  savedError = $state<string | null>(null);

  axis = $derived(axisOfRecords(this.records));
  cells = $derived(cells(this.records, this.axis));
  busy = $derived(this.phase === 'starting' || this.phase === 'running' || this.phase === 'cancelling');

  readonly #api: StudioApi;
  /** Events that came before startSweep answered with the job's id (replayed then). */
  #early: (() => void)[] = [];
  #earlyIds: string[] = [];

  constructor(api: StudioApi) {
    this.#api = api;
  }

  listen(): () => void {
    const offs = [
      this.#api.on('sweepProgress', (p) => this.#hold(p.jobId, () => this.#progress(p))),
      this.#api.on('sweepDone', (p) => this.#hold(p.jobId, () => this.#done(p))),
      this.#api.on('failed', (p) => this.#hold(p.jobId, () => this.#failed(p))),
    ];
    return () => offs.forEach((off) => off());
  }

  /** The form for `model`: its defaults the first time, kept while the model stays the same. */
  prepare(model: ModelSummary, prompt: string): void {
    if (this.values && this.#formModel === model.id) return;
    this.values = labDefaults(model, prompt);
    this.#formModel = model.id;
  }

  async start(model: ModelSummary): Promise<void> {
    if (!this.values || this.busy) return;
    const request = labRequestOf(model, this.values);
    if (typeof request === 'string') {
      this.error = request;
      return;
    }
    this.error = null;
    this.phase = 'starting';
    this.jobId = null;
    this.records = [];
    this.references = [];
    this.completed = 0;
    this.elapsedMs = 0;
    this.shown = { id: null, modelName: model.name, spec: { solvers: request.solvers, seeds: request.seeds, prompt: request.prompt }, plannedRuns: 0, complete: false };
    try {
      const started = await this.#api.startSweep(request);
      this.jobId = started.jobId;
      this.plannedRuns = started.plannedRuns;
      this.skipped = started.skipped;
      this.shown = { ...this.shown, plannedRuns: started.plannedRuns };
      if (this.phase === 'starting') this.phase = 'running';
      const early = this.#early.filter((_, i) => this.#earlyIds[i] === started.jobId);
      this.#early = [];
      this.#earlyIds = [];
      for (const replay of early) replay();
    } catch (error) {
      this.phase = 'failed';
      this.error = toCallError(error).message;
    }
  }

  async cancel(): Promise<void> {
    if (!this.jobId || !this.busy) return;
    this.phase = 'cancelling';
    try {
      await this.#api.cancel({ jobId: this.jobId });
    } catch (error) {
      this.error = toCallError(error).message;
    }
  }

  async refreshSaved(): Promise<void> {
    try {
      this.saved = await this.#api.listSweeps({});
      this.savedError = null;
    } catch (error) {
      this.savedError = toCallError(error).message;
    }
  }

  async open(id: number): Promise<void> {
    if (this.busy) return;
    try {
      const doc = await this.#api.getSweep({ id });
      this.records = doc.runs;
      this.references = doc.references;
      this.completed = doc.runs.length;
      this.plannedRuns = doc.plannedRuns;
      this.shown = { id, modelName: doc.model.name, spec: doc.spec, plannedRuns: doc.plannedRuns, complete: doc.complete };
      this.phase = 'idle';
      this.error = null;
    } catch (error) {
      this.savedError = toCallError(error).message;
    }
  }

  /** Runs an event's handler now, or keeps it while the sweep's id is not known yet. */
  #hold(jobId: string, handle: () => void): void {
    if (this.phase === 'starting' && this.jobId === null) {
      this.#early.push(handle);
      this.#earlyIds.push(jobId);
    } else handle();
  }

  #mine(jobId: string): boolean {
    return jobId === this.jobId && this.busy;
  }

  #progress(p: StudioEvents['sweepProgress']): void {
    if (!this.#mine(p.jobId)) return;
    this.completed = p.completed;
    this.plannedRuns = p.plannedRuns;
    this.elapsedMs = p.elapsedMs;
    if (p.record) this.records = [...this.records, p.record];
    if (p.reference) this.references = [...this.references, p.reference];
  }

  #done(p: StudioEvents['sweepDone']): void {
    if (!this.#mine(p.jobId)) return;
    this.phase = p.complete ? 'done' : 'cancelled';
    this.shown = this.shown && { ...this.shown, id: p.sweepId, complete: p.complete };
    void this.refreshSaved();
  }

  #failed(p: StudioEvents['failed']): void {
    if (!this.#mine(p.jobId)) return;
    this.phase = p.kind === 'cancelled' ? 'cancelled' : 'failed';
    this.error = p.kind === 'cancelled' ? null : p.message;
  }
}
