import type { GenerationRecord, StudioApi, StudioEvents } from '../../../shared/contract';
import type { FieldName } from '../../../shared/settingsFields';
import { pngUrl } from '../lib/images';
import { toCallError } from '../transport';
import { type ProgressSample, progressStats } from './progressLogic';

export type JobPhase = 'idle' | 'starting' | 'running' | 'cancelling' | 'done' | 'cancelled' | 'failed';

export interface JobResult {
  record: GenerationRecord;
  url: string;
  /** The PNG the URL shows (a batch keeps its own URL of it: this one is revoked by the next result). */
  png: Uint8Array;
  /** Re-runs: what differs in the engine since the original was made (empty: nothing). */
  fingerprintChanges?: string[];
  /** Re-runs with the original's settings: whether the image is bit-identical to the original's. */
  identicalToParent?: boolean;
}

type JobEvent = { type: 'progress'; payload: StudioEvents['progress'] } | { type: 'done'; payload: StudioEvents['done'] } | { type: 'failed'; payload: StudioEvents['failed'] };

const KEEP_SAMPLES = 32;

/**
 * The job the studio follows (one at a time): its phase, progress samples, live preview and
 * result. Cancel answers at once ("cancelling…"); "cancelled" comes with the failed event.
 */
export class JobState {
  phase = $state<JobPhase>('idle');
  jobId = $state<string | null>(null);
  samples = $state.raw<ProgressSample[]>([]);
  previewUrl = $state<string | null>(null);
  result = $state.raw<JobResult | null>(null);
  /** Why the job failed (or was cancelled). */
  message = $state('');
  failedKind = $state<StudioEvents['failed']['kind'] | null>(null);
  /** Where the job came from, for the label: a new run or a gallery re-run. */
  label = $state('');

  stats = $derived(progressStats(this.samples));
  busy = $derived(this.phase === 'starting' || this.phase === 'running' || this.phase === 'cancelling');

  readonly #api: StudioApi;
  #cancelRequested = false;
  #early: JobEvent[] = [];
  /** Called when a followed job finishes. */
  onFinished: ((record: GenerationRecord) => void) | null = null;
  /** Called when the engine refuses a followed job's settings; `field` is the setting or input it named. */
  onRefused: ((message: string, field: FieldName | undefined) => void) | null = null;
  #settle: ((phase: JobPhase) => void) | null = null;
  #settled: Promise<JobPhase> = Promise.resolve('idle');

  constructor(api: StudioApi) {
    this.#api = api;
  }

  /** Subscribes to the studio's events; returns the unsubscriber. */
  listen(): () => void {
    const offs = [
      this.#api.on('progress', (p) => this.#event({ type: 'progress', payload: p })),
      this.#api.on('done', (p) => this.#event({ type: 'done', payload: p })),
      this.#api.on('failed', (p) => this.#event({ type: 'failed', payload: p })),
    ];
    return () => offs.forEach((off) => off());
  }

  /** A run is being requested; events that arrive before its id are kept for it. */
  begin(label: string): void {
    this.phase = 'starting';
    this.jobId = null;
    this.samples = [];
    this.message = '';
    this.failedKind = null;
    this.label = label;
    this.#cancelRequested = false;
    this.#early = [];
    this.#setPreview(null);
    this.#settle?.('failed');
    this.#settled = new Promise((resolve) => (this.#settle = resolve));
  }

  /** Resolves with the final phase (done, cancelled or failed) of the job begun last. */
  settled(): Promise<JobPhase> {
    return this.#settled;
  }

  #end(phase: 'done' | 'cancelled' | 'failed'): void {
    this.phase = phase;
    this.#settle?.(phase);
    this.#settle = null;
  }

  attach(jobId: string): void {
    this.jobId = jobId;
    const early = this.#early.filter((e) => e.payload.jobId === jobId);
    this.#early = [];
    if (this.phase === 'starting') this.phase = 'running';
    if (this.#cancelRequested) this.#sendCancel();
    for (const e of early) this.#event(e);
  }

  /** The request itself failed (nothing runs). */
  fail(error: unknown): void {
    const e = toCallError(error);
    this.#end('failed');
    this.failedKind = e.kind === 'invalid' ? 'settings' : 'internal';
    this.message = e.message;
  }

  /** The connection went away while a job ran: its events will not come. */
  lose(message: string): void {
    if (!this.busy) return;
    this.#end('failed');
    this.failedKind = 'internal';
    this.message = message;
  }

  cancel(): void {
    if (this.phase === 'starting') {
      this.#cancelRequested = true;
      this.phase = 'cancelling';
    } else if (this.phase === 'running') {
      this.phase = 'cancelling';
      this.#sendCancel();
    }
  }

  #sendCancel(): void {
    const jobId = this.jobId;
    if (!jobId) return;
    this.#api.cancel({ jobId }).then(
      ({ cancelled }) => {
        // Not cancelled: the job had already ended; its done/failed event decides.
        if (!cancelled && this.jobId === jobId && this.phase === 'cancelling') this.message = 'the job was already finishing';
      },
      (error) => {
        if (this.jobId !== jobId || this.phase !== 'cancelling') return;
        this.phase = 'running';
        this.message = `cancel failed: ${toCallError(error).message}`;
      },
    );
  }

  #event(e: JobEvent): void {
    if (this.phase === 'starting' && this.jobId === null) {
      this.#early.push(e);
      return;
    }
    if (e.payload.jobId !== this.jobId || !this.busy) return;
    if (e.type === 'progress') {
      const { step, steps, nfe, nfeTotal, elapsedMs, preview } = e.payload;
      this.samples = [...this.samples.slice(-(KEEP_SAMPLES - 1)), { step, steps, nfe, nfeTotal, elapsedMs }];
      if (preview && preview.length > 0) this.#setPreview(pngUrl(preview));
    } else if (e.type === 'done') {
      this.#end('done');
      if (this.result) URL.revokeObjectURL(this.result.url);
      const { generation, image, fingerprintChanges, identicalToParent } = e.payload;
      this.result = { record: generation, url: pngUrl(image), png: image, fingerprintChanges, identicalToParent };
      this.#setPreview(null);
      this.onFinished?.(e.payload.generation);
    } else {
      this.#end(e.payload.kind === 'cancelled' ? 'cancelled' : 'failed');
      this.failedKind = e.payload.kind;
      this.message = e.payload.kind === 'cancelled' ? '' : e.payload.message;
      if (e.payload.kind === 'settings') this.onRefused?.(e.payload.message, e.payload.field);
    }
  }

  #setPreview(url: string | null): void {
    if (this.previewUrl) URL.revokeObjectURL(this.previewUrl);
    this.previewUrl = url;
  }
}
