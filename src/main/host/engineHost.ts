/**
 * The main process's side of the engine: starts the engine process, forwards jobs, relays
 * progress, restarts it if it dies (failing the jobs it had). Plain Node: the Electron
 * entry supplies a utilityProcess launcher, everything else a forked child process.
 */
import { fork } from 'node:child_process';
import type { FromEngine, RunJob, ToEngine } from './messages';

export interface EngineProcessHandle {
  send(message: ToEngine): void;
  onMessage(listener: (message: FromEngine) => void): void;
  onExit(listener: (code: number | null) => void): void;
  kill(): void;
}

export type EngineLauncher = () => EngineProcessHandle;

/** A forked Node child speaking structured clone ('advanced'), so bytes stay bytes. */
export function nodeLauncher(entry: string): EngineLauncher {
  return () => {
    const child = fork(entry, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return {
      send: (m) => void child.send(m),
      onMessage: (l) => void child.on('message', (m) => l(m as FromEngine)),
      onExit: (l) => void child.on('exit', (code) => l(code)),
      kill: () => void child.kill(),
    };
  };
}

export interface JobListener {
  progress(message: Extract<FromEngine, { type: 'progress' }>): void;
  done(message: Extract<FromEngine, { type: 'done' }>): void;
  failed(message: Extract<FromEngine, { type: 'failed' }>): void;
}

export class EngineHost {
  private process: EngineProcessHandle | null = null;
  private ready: Promise<void> | null = null;
  private readonly jobs = new Map<string, JobListener>();
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
      handle.onExit((code) => {
        reject(new Error(`the engine process exited (code ${code})`));
        this.process = null;
        this.ready = null;
        // Nothing is lost silently: every job in flight fails with the reason.
        for (const [jobId, listener] of this.jobs) listener.failed({ type: 'failed', jobId, kind: 'internal', message: `the engine process stopped unexpectedly (exit code ${code})` });
        this.jobs.clear();
        for (const [requestId, resolveValidation] of this.validations) resolveValidation({ type: 'validated', requestId, ok: false, message: `the engine process stopped (exit code ${code})` });
        this.validations.clear();
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
        this.jobs.get(message.jobId)?.failed(message);
        this.jobs.delete(message.jobId);
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

  cancel(jobId: string): boolean {
    if (!this.jobs.has(jobId) || !this.process) return false;
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

  get busy(): boolean {
    return this.jobs.size > 0;
  }

  stop(): void {
    this.stopped = true;
    this.process?.kill();
  }
}
