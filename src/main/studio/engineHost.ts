/**
 * The main process's side of the engine: starts the engine process, forwards jobs, relays
 * progress, restarts it if it dies (failing the jobs it had). Plain Node: the Electron
 * entry supplies a utilityProcess launcher, everything else a forked child process.
 */
import { fork } from 'node:child_process';
import type { FromEngine, RunJob, SweepJob, ToEngine } from '../engineProcess/messages';

export interface EngineProcessHandle {
  send(message: ToEngine): void;
  onMessage(listener: (message: FromEngine) => void): void;
  /** The signal is absent where the launcher cannot tell (Electron's utilityProcess). */
  onExit(listener: (code: number | null, signal?: string | null) => void): void;
  kill(): void;
  /** The OS process id, where the launcher knows it (for memory figures and fault tests). */
  readonly pid?: number;
}

export type EngineLauncher = () => EngineProcessHandle;

/** A forked Node child speaking structured clone ('advanced'), so bytes stay bytes. */
export function nodeLauncher(entry: string): EngineLauncher {
  return () => {
    const child = fork(entry, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    // A send to an engine that has just died emits 'error' on the child (an uncaught exception
    // without this listener). The 'exit' that follows fails the jobs it had, so nothing more
    // is needed here.
    child.on('error', () => {});
    return {
      send: (m) => {
        if (child.connected) child.send(m, () => {});
      },
      onMessage: (l) => void child.on('message', (m) => l(m as FromEngine)),
      onExit: (l) => void child.on('exit', (code, signal) => l(code, signal)),
      kill: () => void child.kill(),
      pid: child.pid,
    };
  };
}

export interface JobListener {
  progress(message: Extract<FromEngine, { type: 'progress' }>): void;
  done(message: Extract<FromEngine, { type: 'done' }>): void;
  failed(message: Extract<FromEngine, { type: 'failed' }>): void;
}

/** A Lab sweep's messages: each reference and run as it finishes, then its one end (done or failed). */
export interface SweepListener {
  reference(message: Extract<FromEngine, { type: 'sweepReference' }>): void;
  record(message: Extract<FromEngine, { type: 'sweepRecord' }>): void;
  done(message: Extract<FromEngine, { type: 'sweepDone' }>): void;
  failed(message: Extract<FromEngine, { type: 'failed' }>): void;
}

/** "exit code 1", "killed by SIGKILL". */
function exitDescription(code: number | null, signal?: string | null): string {
  if (signal) return `killed by ${signal}`;
  return `exit code ${code}`;
}

export class EngineHost {
  private process: EngineProcessHandle | null = null;
  private ready: Promise<void> | null = null;
  private readonly jobs = new Map<string, JobListener>();
  private readonly sweeps = new Map<string, SweepListener>();
  private readonly validations = new Map<string, (m: Extract<FromEngine, { type: 'validated' }>) => void>();
  private counter = 0;
  private stopped = false;

  constructor(private readonly launch: EngineLauncher) {}

  private ensure(): Promise<void> {
    if (this.ready) return this.ready;
    const handle = this.launch();
    this.process = handle;
    this.ready = new Promise((resolve, reject) => {
      handle.onMessage((message) => {
        if (message.type === 'ready') resolve();
        else this.dispatch(message);
      });
      handle.onExit((code, signal) => {
        const how = exitDescription(code, signal);
        reject(new Error(`the engine process exited (${how})`));
        // Only the current engine's exit resets the host: a late exit of an old one must not
        // drop the fresh engine that replaced it.
        if (this.process !== handle) return;
        this.process = null;
        this.ready = null;
        // Nothing is lost silently: every job in flight fails with the reason; the next job
        // starts a fresh engine. Copied first: a listener may start a new job at once.
        const jobs: [string, { failed: JobListener['failed'] }][] = [...this.jobs, ...this.sweeps];
        this.jobs.clear();
        this.sweeps.clear();
        const validations = [...this.validations];
        this.validations.clear();
        for (const [jobId, listener] of jobs) {
          listener.failed({ type: 'failed', jobId, kind: 'internal', message: `the engine process stopped unexpectedly (${how}); the job was not finished, nothing was saved for it` });
        }
        for (const [requestId, resolveValidation] of validations) resolveValidation({ type: 'validated', requestId, ok: false, message: `the engine process stopped (${how})` });
      });
    });
    return this.ready;
  }

  private dispatch(message: FromEngine): void {
    switch (message.type) {
      case 'progress':
        this.jobs.get(message.jobId)?.progress(message);
        break;
      case 'done':
        this.jobs.get(message.jobId)?.done(message);
        this.jobs.delete(message.jobId);
        break;
      case 'failed':
        (this.jobs.get(message.jobId) ?? this.sweeps.get(message.jobId))?.failed(message);
        this.jobs.delete(message.jobId);
        this.sweeps.delete(message.jobId);
        break;
      case 'sweepReference':
        this.sweeps.get(message.jobId)?.reference(message);
        break;
      case 'sweepRecord':
        this.sweeps.get(message.jobId)?.record(message);
        break;
      case 'sweepDone':
        this.sweeps.get(message.jobId)?.done(message);
        this.sweeps.delete(message.jobId);
        break;
      case 'validated':
        this.validations.get(message.requestId)?.(message);
        this.validations.delete(message.requestId);
        break;
    }
  }

  newJobId(): string {
    this.counter += 1;
    return `job-${Date.now().toString(36)}-${this.counter}`;
  }

  async run(job: Omit<RunJob, 'type'>, listener: JobListener): Promise<void> {
    if (this.stopped) throw new Error('the engine is shutting down');
    await this.ensure();
    this.jobs.set(job.jobId, listener);
    this.process!.send({ type: 'run', ...job });
  }

  /** A Lab sweep, queued in the engine with the run jobs (one job at a time); `cancel` stops it. */
  async sweep(job: Omit<SweepJob, 'type'>, listener: SweepListener): Promise<void> {
    if (this.stopped) throw new Error('the engine is shutting down');
    await this.ensure();
    this.sweeps.set(job.jobId, listener);
    this.process!.send({ type: 'sweep', ...job });
  }

  cancel(jobId: string): boolean {
    if (!(this.jobs.has(jobId) || this.sweeps.has(jobId)) || !this.process) return false;
    this.process.send({ type: 'cancel', jobId });
    return true;
  }

  async validate(modelDir: string, providers: string[]): Promise<{ width: number | null; height: number | null }> {
    await this.ensure();
    const requestId = this.newJobId();
    const answer = await new Promise<Extract<FromEngine, { type: 'validated' }>>((resolve) => {
      this.validations.set(requestId, resolve);
      this.process!.send({ type: 'validate', requestId, modelDir, providers });
    });
    if (!answer.ok) throw new Error(answer.message);
    return { width: answer.width, height: answer.height };
  }

  /** The running engine's process id, or null when none runs (or the launcher cannot tell). */
  get enginePid(): number | null {
    return this.process?.pid ?? null;
  }

  stop(): void {
    this.stopped = true;
    this.process?.kill();
  }
}
