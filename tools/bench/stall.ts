/**
 * `npm run bench:stall`: how long each finished 512x512 result blocks the main process's event
 * loop, against the studio's 50 ms budget. The studio's main side in plain Node
 * (createStudioApp: the real engine process, gallery and service), generating with the latent
 * test fixture e2e/fixtures/tiny-sd-eps at 512x512 (a tiny network, so the run is quick and
 * the result is a full-size image); every event is framed as served mode frames it.
 *
 * Per result, from a probe timer that should tick every PROBE_MS:
 * - "block at its result": the gap between the two ticks around the engine's 'done' message,
 *   beyond PROBE_MS: reading the message, saving it, the re-run report and the event;
 * - "'done' handled": the message listener alone, timed around it (no wait for a CPU in it,
 *   so the figure that a busy machine moves least);
 * - "worst in the run": the longest gap from the job's start until SETTLE_MS after its end,
 *   whatever caused it (on a machine busier than its cores, waits for a CPU too).
 * Results: fresh generations and re-runs with unchanged settings (which compare pixels with
 * the original). A benchmark, not a test: it prints, it does not fail.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EventName, Settings, StudioEvents } from '../../src/shared/contract';
import { encodeFrame } from '../../src/shared/frames';
import { type EngineLauncher, nodeLauncher } from '../../src/main/studio/engineHost';
import { createStudioApp, engineEntry } from '../../src/main/studio/app';

const BUDGET_MS = 50;
const PROBE_MS = 2;
/** How long after a 'done' event the probe keeps watching, for work queued behind it. */
const SETTLE_MS = 100;
const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = path.join(here, '../../e2e/fixtures/tiny-sd-eps');
const args = process.argv.slice(2);
const countArg = args.indexOf('--count');
const COUNT = countArg >= 0 ? Number(args[countArg + 1]) : 6;
if (!Number.isInteger(COUNT) || COUNT < 1) {
  process.stderr.write('bench:stall: --count must be a whole number >= 1\n');
  process.exit(2);
}

const settings: Settings = {
  task: 'txt2img', prompt: 'a lighthouse at dusk', negativePrompt: 'blurry', classLabel: null, classifierScale: 0, solver: 'stsp2', steps: 4, guidance: 7.5,
  conditionAt: 'same-point', consistencyScale: 0.01, seed: 1, width: 512, height: 512, spacing: 'leading', clipX0: null, strength: 1,
};

interface ResultTimes {
  /** The probe gap spanning the 'done' message. */
  atResult: number;
  /** The 'done' listener's own time. */
  handled: number;
  /** The longest probe gap of the whole job. */
  worst: number;
}

/** Event-loop gaps, and the listener time of the engine's 'done' messages, since the last reset. */
function stallMeter() {
  const times: ResultTimes = { atResult: 0, handled: 0, worst: 0 };
  let doneJustHandled = false;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const gap = now - last - PROBE_MS;
    times.worst = Math.max(times.worst, gap);
    if (doneJustHandled) times.atResult = Math.max(times.atResult, gap);
    doneJustHandled = false;
    last = now;
  }, PROBE_MS);
  return {
    /** The engine's launcher, with each 'done' message's handling timed. */
    launcher: (launch: EngineLauncher): EngineLauncher => () => {
      const handle = launch();
      return {
        ...handle,
        onMessage: (listener) =>
          handle.onMessage((message) => {
            const start = performance.now();
            listener(message);
            if (message.type !== 'done') return;
            times.handled = Math.max(times.handled, performance.now() - start);
            doneJustHandled = true;
          }),
      };
    },
    reset: () => Object.assign(times, { atResult: 0, handled: 0, worst: 0 }),
    read: (): ResultTimes => ({ ...times }),
    stop: () => clearInterval(timer),
  };
}

const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const waiting = new Map<string, (payload: StudioEvents['done'] | StudioEvents['failed']) => void>();
function emit<E extends EventName>(event: E, payload: StudioEvents[E]): void {
  encodeFrame({ type: 'event', event, payload }); // what served mode does with every event
  if (event === 'done' || event === 'failed') waiting.get((payload as { jobId: string }).jobId)?.(payload as StudioEvents['done']);
}

const meter = stallMeter();
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'split-bench-stall-'));
const app = createStudioApp({ launcher: meter.launcher(nodeLauncher(engineEntry(here))), emit, dataDir, providers: ['cpu'] });
try {
  console.log(`main-process stall per 512x512 result (${path.basename(fixture)}, ${settings.solver}, ${settings.steps} steps); ${os.cpus()[0]?.model ?? 'cpu'}, ${os.availableParallelism?.() ?? os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}`);
  await app.service.handle('importModel', { path: fixture });

  /** Runs one job to its end and reads the meter SETTLE_MS later. */
  const measure = async (start: () => Promise<unknown>): Promise<ResultTimes & { id: number }> => {
    meter.reset();
    const { jobId } = (await start()) as { jobId: string };
    const end = await new Promise<StudioEvents['done'] | StudioEvents['failed']>((resolve) => waiting.set(jobId, resolve));
    waiting.delete(jobId);
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    if (!('generation' in end)) throw new Error(`${jobId} failed: ${end.message}`);
    return { ...meter.read(), id: end.generation.id };
  };

  const rows: (ResultTimes & { kind: string })[] = [];
  const made: number[] = [];
  for (let i = 0; i < COUNT; i++) {
    const { id, ...times } = await measure(() => app.service.handle('generate', { modelId: fixture, settings: { ...settings, seed: i + 1 } }));
    made.push(id);
    rows.push({ kind: 'generate', ...times });
  }
  for (let i = 0; i < Math.ceil(COUNT / 2); i++) {
    const { id: _id, ...times } = await measure(() => app.service.handle('rerun', { id: made[i] }));
    rows.push({ kind: 're-run, same settings', ...times });
  }

  const ms = (v: number, width: number) => `${v.toFixed(1).padStart(width)} ms`;
  console.log(`  #  ${'result'.padEnd(22)} block at its result  'done' handled  worst in the run`);
  for (const [i, r] of rows.entries()) console.log(`${String(i + 1).padStart(3)}  ${r.kind.padEnd(22)} ${ms(r.atResult, 16)}  ${ms(r.handled, 11)}  ${ms(r.worst, 13)}`);
  const summary = (label: string, values: number[]) => {
    const worst = Math.max(...values);
    console.log(`${label.padEnd(20)} median ${ms(median(values), 6)}, worst ${ms(worst, 6)}  (budget ${BUDGET_MS} ms: ${worst < BUDGET_MS ? 'ok' : 'OVER'})`);
  };
  summary('block at its result', rows.map((r) => r.atResult));
  summary("'done' handled", rows.map((r) => r.handled));
  summary('worst in the run', rows.map((r) => r.worst));
} finally {
  meter.stop();
  app.close();
  rmSync(dataDir, { recursive: true, force: true });
}
