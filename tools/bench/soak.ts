/**
 * `npm run bench:soak`: a long served session, to catch what only shows after hours of use:
 * memory that grows per generation, jobs that are silently lost, a gallery that drifts from
 * its files. N generations (default 1000, `--count N`) with the default model through one
 * served studio (the real WebSocket server, frames and service; the real engine process),
 * one in ten cancelled after its first preview and one in ten a re-run of an earlier image.
 * Every 100 generations it prints the RSS of the main process and of the engine process;
 * at the end the least-squares slope of each (MB per 100 generations) and a check of the
 * gallery: row count against the runs that reported done, every image file present,
 * PRAGMA integrity_check. Data folder: a temporary one, removed afterwards.
 * A benchmark, not a test: it prints; it exits 1 only if the gallery check fails or a job
 * never ended.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import WebSocket from 'ws';
import type { ModelSummary, Settings, StudioEvents } from '../../src/shared/contract';
import { decodeFrame, encodeFrame } from '../../src/shared/frames';
import { nodeLauncher } from '../../src/main/studio/engineHost';
import { defaultModelDir } from '../../src/main/core/models/catalog';
import { type ServedStudio, serveStudio } from '../../src/main/server/serve';
import { createStudioApp, engineEntry } from '../../src/main/studio/app';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const count = option('--count', 1000);
const every = option('--every', 100);
/** Steps per generation; 0: the model's default. */
const stepsOption = option('--steps', 0);
if (![count, every].every((n) => Number.isInteger(n) && n >= 1) || !Number.isInteger(stepsOption) || stepsOption < 0 || stepsOption > 1000) {
  process.stderr.write('bench:soak: --count and --every must be whole numbers >= 1, --steps one from 1 to 1000\n');
  process.exit(2);
}
/** A job that has not ended after this long is reported lost. */
const JOB_TIMEOUT_MS = 120_000;

/** Resident set size of a process in MB, from /proc (Linux); null where unreadable. */
function rssMb(pid: number | null): number | null {
  if (pid === null) return null;
  try {
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return kb ? Number(kb[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** Least-squares slope of y over x. */
export function slope(points: [number, number][]): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
  }
  return sxy / sxx;
}

/** One WebSocket client of the served studio: calls by id, events by job id. */
async function client(served: ServedStudio) {
  const ws = new WebSocket(`ws://127.0.0.1:${served.port}/ws?token=${served.token}`, { origin: `http://127.0.0.1:${served.port}` });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let nextId = 1;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  const waiters = new Map<string, (event: string, payload: unknown) => void>();
  const early = new Map<string, [string, unknown][]>();
  ws.on('message', (data) => {
    const m = decodeFrame(new Uint8Array(data as Buffer)) as { type: string; id?: number; ok?: boolean; value?: unknown; error?: { message: string }; event?: string; payload?: { jobId?: string } };
    if (m.type === 'result') {
      const p = pending.get(m.id!);
      pending.delete(m.id!);
      if (m.ok) p?.resolve(m.value);
      else p?.reject(new Error(m.error?.message));
    } else if (m.type === 'event' && m.payload?.jobId) {
      const jobId = m.payload.jobId;
      const waiter = waiters.get(jobId);
      if (waiter) waiter(m.event!, m.payload);
      else early.set(jobId, [...(early.get(jobId) ?? []), [m.event!, m.payload]]);
    }
  });
  return {
    call<T>(op: string, input: unknown): Promise<T> {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        ws.send(encodeFrame({ type: 'call', id, op, input }));
      });
    },
    /** Follows a job's events until it ends; `onProgress` sees each progress event. */
    follow(jobId: string, onProgress: () => void = () => {}): Promise<{ done?: StudioEvents['done']; failed?: StudioEvents['failed'] }> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`job ${jobId} did not end within ${JOB_TIMEOUT_MS / 1000} s`)), JOB_TIMEOUT_MS);
        const handle = (event: string, payload: unknown) => {
          if (event === 'progress') onProgress();
          if (event === 'done' || event === 'failed') {
            clearTimeout(timer);
            waiters.delete(jobId);
            resolve({ [event]: payload });
          }
        };
        waiters.set(jobId, handle);
        for (const [event, payload] of early.get(jobId) ?? []) handle(event, payload);
        early.delete(jobId);
      });
    },
    close: () => ws.close(),
  };
}

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'split-soak-'));
let served: ServedStudio | null = null;
const app = createStudioApp({ launcher: nodeLauncher(engineEntry(here)), emit: (event, payload) => served?.broadcast(event, payload), dataDir, providers: ['cpu'] });
let failedCheck = false;
try {
  served = await serveStudio({ renderDir: path.join(here, '../renderer'), service: () => app.service });
  const studio = await client(served);
  const modelDir = defaultModelDir();
  if (!modelDir) throw new Error('no default model under resources/models');
  const model = (await studio.call<ModelSummary[]>('listModels', {})).find((m) => m.id === modelDir);
  if (!model) throw new Error(`the default model ${modelDir} is not offered`);
  const base: Settings = {
    task: 'txt2img', prompt: 'a smiling face', negativePrompt: '', classLabel: null, classifierScale: 0, solver: model.defaults?.solver ?? 'stsp4',
    steps: stepsOption || (model.defaults?.steps ?? 20), guidance: model.defaults?.guidance ?? 5, conditionAt: 'exact', consistencyScale: 0.01, seed: 0,
    width: model.width ?? 32, height: model.height ?? 32, spacing: model.spacing, clipX0: null, strength: 1,
  };
  console.log(`soak: ${count} generations of ${model.name} (${base.solver}, ${base.steps} steps, ${base.width}x${base.height}) through one served session; data in ${dataDir}`);
  console.log(`${os.cpus()[0]?.model ?? 'cpu'}, ${os.availableParallelism?.() ?? os.cpus().length} cores, node ${process.version}`);

  const made: number[] = [];
  let done = 0;
  let cancelled = 0;
  let reruns = 0;
  const other: string[] = [];
  const mainPoints: [number, number][] = [];
  const enginePoints: [number, number][] = [];
  const prompts = ['a smiling face', 'a red apple', 'a cat', 'a rocket', 'a heart', 'a tree'];
  const started = performance.now();
  let lap = started;
  const sample = (n: number) => {
    const main = rssMb(process.pid)!;
    const engine = rssMb(app.host.enginePid);
    mainPoints.push([n, main]);
    if (engine !== null) enginePoints.push([n, engine]);
    const now = performance.now();
    console.log(
      `${String(n).padStart(6)}  main ${main.toFixed(1).padStart(7)} MB  engine ${engine === null ? '      -' : engine.toFixed(1).padStart(7)} MB  ` +
        `heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(1).padStart(6)} MB  done ${done} cancelled ${cancelled} re-runs ${reruns}  ${((now - lap) / Math.max(1, n - (mainPoints.at(-2)?.[0] ?? 0))).toFixed(0)} ms/gen`,
    );
    lap = now;
  };
  sample(0);
  for (let i = 1; i <= count; i++) {
    const kind = i % 10 === 3 ? 'cancel' : i % 10 === 7 && made.length ? 'rerun' : 'generate';
    const { jobId } =
      kind === 'rerun'
        ? await studio.call<{ jobId: string }>('rerun', { id: made[(i * 7919) % made.length], changes: { seed: i } })
        : await studio.call<{ jobId: string }>('generate', { modelId: modelDir, settings: { ...base, seed: i, prompt: prompts[i % prompts.length] } });
    let askedCancel = false;
    const end = await studio.follow(jobId, () => {
      if (kind === 'cancel' && !askedCancel) {
        askedCancel = true;
        void studio.call('cancel', { jobId });
      }
    });
    if (end.done) {
      done++;
      if (kind === 'rerun') reruns++;
      made.push(end.done.generation.id);
    } else if (end.failed?.kind === 'cancelled') cancelled++;
    else other.push(`${jobId}: ${end.failed?.kind}: ${end.failed?.message}`);
    if (i % every === 0 || i === count) sample(i);
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(`\n${count} generations in ${seconds.toFixed(0)} s (${((seconds * 1000) / count).toFixed(0)} ms each): ${done} done (${reruns} re-runs), ${cancelled} cancelled, ${other.length} failed otherwise`);
  for (const line of other.slice(0, 5)) console.log(`  failed: ${line}`);
  const per100 = (points: [number, number][]) => (slope(points) * 100).toFixed(2);
  const after = (points: [number, number][]) => points.filter(([n]) => n > 0);
  console.log(`RSS slope, least squares over the samples: main ${per100(mainPoints)} MB per 100 generations, engine ${per100(enginePoints)} MB per 100`);
  console.log(`  (without the start-up sample: main ${per100(after(mainPoints))}, engine ${per100(after(enginePoints))} MB per 100)`);

  // The gallery afterwards: every reported run is a row, every row has its file, the database is sound.
  const rows = await studio.call<{ total: number }>('listGallery', { limit: 1 });
  const db = new Database(path.join(dataDir, 'gallery.sqlite'), { readonly: true });
  const integrity = db.pragma('integrity_check', { simple: true });
  const dbRows = (db.prepare('SELECT count(*) AS n FROM generations').get() as { n: number }).n;
  db.close();
  const missing = made.filter((id) => {
    const file = app.gallery.imageFile(id);
    return !file || !existsSync(file);
  });
  console.log(`gallery: ${rows.total} listed, ${dbRows} rows in the database, ${done} runs reported done; ${missing.length} image files missing; integrity_check: ${integrity}`);
  failedCheck = rows.total !== done || dbRows !== done || missing.length > 0 || integrity !== 'ok' || other.length > 0;
  console.log(failedCheck ? 'gallery check: FAILED' : 'gallery check: ok');
  studio.close();
} catch (error) {
  console.error(`bench:soak: ${(error as Error).message}`);
  failedCheck = true;
} finally {
  app.close();
  await served?.close();
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(failedCheck ? 1 : 0);
