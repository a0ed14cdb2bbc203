/**
 * Crash safety of the gallery as users can break it: `split-studio generate` processes killed
 * with SIGKILL at random moments (model loading, sampling, writing the files, inside the
 * insert), interleaved with runs that complete (one process at a time: the suite's other
 * workers time their event loops on this two-core machine). Then:
 * the database passes `PRAGMA integrity_check`, every row has its image and thumbnail (after
 * the reconcile GalleryStore.open runs), and every run that reported success is there.
 * Needs the build (npm test builds first).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, expect, test } from 'vitest';
import { GalleryStore } from '../main/core/gallery/store';
// mulberry32: the same delays on every run of the test (the seed is printed).
import { prng } from '../main/core/gallery/bench';

const root = path.resolve(__dirname, '../..');
const bin = path.join(root, 'bin/split-studio.js');
const exact8 = path.join(root, 'resources/exact/gmm-3x8x8');
const KILLS = 25;
/** A run that completes follows every other victim. */
const COMPLETE_EVERY = 3;
let home: string;

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** One `generate`, killed with SIGKILL after `killAfterMs` if given. */
function generate(seed: number, killAfterMs?: number): Promise<Outcome> {
  const started = performance.now();
  const child = spawn(process.execPath, [bin, 'generate', '--model', exact8, '--solver', 'stsp4', '--steps', '200', '--seed', String(seed), '--json'], {
    env: { ...process.env, SPLIT_STUDIO_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - started });
    });
  });
}

/** The generation id a run printed, or null if it did not get that far. */
function reportedId(o: Outcome): number | null {
  const line = o.stdout.split('\n').find((l) => l.startsWith('{'));
  if (!line) return null;
  try {
    const id = (JSON.parse(line) as { generationId?: unknown }).generationId;
    return typeof id === 'number' ? id : null;
  } catch {
    return null; // cut off mid-line by the kill
  }
}


beforeAll(() => {
  if (!existsSync(path.join(root, 'out/main/cli.js'))) throw new Error('build first: npm run build');
  home = mkdtempSync(path.join(os.tmpdir(), 'split-crash-'));
});

test(`${KILLS} generate processes killed at random moments leave a consistent gallery that lost no reported run`, async () => {
  const started = performance.now();
  const reported = new Set<number>();
  // The measured length of one whole run (process start to exit) bounds the kill delays.
  const warmup = await generate(1);
  expect(warmup.code, warmup.stderr).toBe(0);
  reported.add(reportedId(warmup)!);
  const duration = warmup.ms;
  const seed = Date.now() % 100_000;
  const random = prng(seed);
  console.log(`crash test: one run takes ${duration.toFixed(0)} ms; kill delays from prng seed ${seed}`);

  let killed = 0;
  let completed = 1;
  const diedAnyway: string[] = [];
  for (let i = 0; i < KILLS; i++) {
    const victim = await generate(1000 + i, random() * duration);
    const survivor = i % COMPLETE_EVERY === 0 ? await generate(2000 + i) : undefined;
    if (victim.signal === 'SIGKILL') killed++;
    const victimId = reportedId(victim);
    if (victimId !== null) reported.add(victimId); // it finished before the kill landed
    if (victim.code !== null && victim.code !== 0) diedAnyway.push(`seed ${1000 + i}: exit ${victim.code}: ${victim.stderr.trim()}`);
    if (survivor) {
      expect(survivor.code, survivor.stderr).toBe(0);
      reported.add(reportedId(survivor)!);
      completed++;
    }
  }
  console.log(`crash test: ${killed} killed, ${completed} completed, ${reported.size} reported ids, ${diedAnyway.length} failed on their own, ${((performance.now() - started) / 1000).toFixed(1)} s`);
  expect(diedAnyway).toEqual([]);
  expect(killed).toBeGreaterThan(KILLS / 2);

  const file = path.join(home, 'gallery.sqlite');
  const db = new Database(file, { readonly: true });
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.pragma('foreign_key_check')).toEqual([]);
  } finally {
    db.close();
  }

  // orphanGraceMs 0: the files of killed runs count as orphans now (they move to recovered/).
  const store = GalleryStore.open(home, { orphanGraceMs: 0 });
  try {
    expect(store.openReport.missingFiles).toEqual([]);
    const rows = store.list({ includeDeleted: true, limit: 1000 });
    expect(rows.total).toBeGreaterThanOrEqual(reported.size);
    for (const item of rows.items) {
      expect(store.imageFile(item.id), `image of #${item.id}`).not.toBeNull();
      expect(store.thumbnailFile(item.id), `thumbnail of #${item.id}`).not.toBeNull();
      expect(store.get(item.id)!.settings.steps).toBe(200);
    }
    for (const id of reported) expect(store.get(id), `reported generation ${id}`).not.toBeNull();
    // Nothing a killed run left behind was deleted: it is in recovered/ (or was already moved there).
    const images = readdirSync(store.imagesDir);
    expect(images.every((name) => /^[0-9a-f]{32}\.png$/.test(name))).toBe(true);
    expect(images).toHaveLength(rows.total);
    const victimRows = rows.items.filter((r) => r.seed >= 1000 && r.seed < 2000 && !reported.has(r.id)).length;
    console.log(
      `crash test: ${rows.total} rows (${victimRows} of killed runs that committed but did not get to print), ` +
        `${store.openReport.orphanFiles.length} files of killed runs moved to recovered/`,
    );
  } finally {
    store.close();
  }
}, 120_000);
