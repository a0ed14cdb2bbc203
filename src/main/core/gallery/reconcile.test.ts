/**
 * The reconcile pass run in the background after open (reconcile: 'background', as the
 * studio opens its gallery): open returns before it has looked at any file, and the pass
 * still keeps store.ts's crash-safety rules (a row whose file is gone is marked missing and
 * kept; an orphan moves to recovered/ only once older than the grace period; rows added
 * while it runs are neither marked nor robbed of their files).
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, onTestFinished, test } from 'vitest';
import { openDatabase } from './db';
import { reconcileSteps, runInSlices } from './reconcile';
import { DATABASE_FILE, GalleryStore, type GalleryOptions } from './store';
import { testGeneration } from './testing/generation';

let dir: string;
const stores: GalleryStore[] = [];

function open(options: GalleryOptions = {}): GalleryStore {
  const store = GalleryStore.open(dir, { reconcile: 'background', orphanGraceMs: 60_000, ...options });
  stores.push(store);
  return store;
}

function makeOld(file: string): void {
  const hourAgo = (Date.now() - 3600_000) / 1000;
  utimesSync(file, hourAgo, hourAgo);
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'gallery-reconcile-'));
});
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  rmSync(dir, { recursive: true, force: true });
});

test('open returns before the pass looks at the files; the pass then marks a lost image missing and moves an old orphan', async () => {
  const first = open({ reconcile: 'now' });
  const kept = first.add(testGeneration()).id;
  const lost = first.add(testGeneration({ settings: { prompt: 'lost image' } })).id;
  const lostFile = first.imageFile(lost)!;
  first.close();
  rmSync(lostFile);
  const oldOrphan = path.join(dir, 'images', `${'e'.repeat(32)}.png`);
  writeFileSync(oldOrphan, 'a file whose row never came');
  makeOld(oldOrphan);
  const youngOrphan = path.join(dir, 'images', `${'f'.repeat(32)}.png`);
  writeFileSync(youngOrphan, 'a file another process has just written');

  const store = open();
  let settled = false;
  void store.reconciled.finally(() => (settled = true));
  // Nothing has been compared yet: open did not wait for the pass.
  expect(store.meta(lost)!.missing).toBe(false);
  expect(existsSync(oldOrphan)).toBe(true);
  expect(() => store.openReport).toThrow(/reconciled/);
  expect(settled).toBe(false);

  const report = await store.reconciled;
  expect(report).toEqual({ orphanFiles: [path.join(dir, 'recovered', path.basename(oldOrphan))], missingFiles: [lost], rebuiltThumbnails: [] });
  expect(store.meta(lost)!.missing).toBe(true);
  expect(store.list({ search: 'lost' }).items.map((i) => i.id)).toEqual([lost]); // kept, never dropped
  expect(store.meta(kept)!.missing).toBe(false);
  expect(existsSync(oldOrphan)).toBe(false);
  expect(existsSync(youngOrphan)).toBe(true); // inside the grace period: its row may be on its way
});

test('a row added while the pass runs is not marked missing and its files stay, though the listing may have missed them', async () => {
  const first = open({ reconcile: 'now', orphanGraceMs: 0 });
  for (let i = 0; i < 3; i++) first.add(testGeneration({ settings: { seed: i } }));
  first.close();
  // Enough unreferenced names that listing them takes several steps (young: never moved).
  for (let i = 0; i < 4500; i++) writeFileSync(path.join(dir, 'thumbnails', `${i.toString(16).padStart(32, '0')}.png`), '');

  const store = open({ sliceMs: 0 }); // one step per slice: as many turns as possible in between
  let done = false;
  void store.reconciled.finally(() => (done = true));
  const added: number[] = [];
  while (!done) {
    await new Promise((resolve) => setImmediate(resolve));
    if (!done && added.length < 5) added.push(store.add(testGeneration({ settings: { prompt: `added during the pass ${added.length}` } })).id);
  }
  expect(added.length).toBeGreaterThan(1); // the pass really was interleaved with adds
  const report = (await store.reconciled)!;
  expect(report.missingFiles).toEqual([]);
  expect(report.orphanFiles).toEqual([]);
  for (const id of added) {
    expect(store.meta(id)!.missing).toBe(false);
    expect(store.imageFile(id)).not.toBeNull();
    expect(store.thumbnailFile(id)).not.toBeNull();
  }
  // A full pass afterwards agrees: nothing to change for the added rows.
  expect(store.reconcile().missingFiles).toEqual([]);
});

test('a pass started before an add still never takes the new files (the highest id is read before the listing)', () => {
  const store = open({ reconcile: 'now', orphanGraceMs: 0 });
  store.add(testGeneration());
  // The pass on its own connection, as another process's would be.
  const db = openDatabase(path.join(dir, DATABASE_FILE));
  onTestFinished(() => {
    db.close();
  });
  const steps = reconcileSteps({
    db,
    dirs: { imagesDir: store.imagesDir, thumbnailsDir: store.thumbnailsDir, recoveredDir: store.recoveredDir },
    now: () => new Date(),
    graceMs: 0, // no grace: only the row check protects the new files
  });
  steps.next(); // the highest id is read and the folders listed
  const late = store.add(testGeneration({ settings: { prompt: 'added after the listing' } })).id;
  let step = steps.next();
  while (!step.done) step = steps.next();
  expect(step.value.missingFiles).toEqual([]);
  expect(step.value.orphanFiles).toEqual([]);
  expect(store.meta(late)!.missing).toBe(false);
  expect(readdirSync(store.imagesDir)).toHaveLength(2);
});

test('closing the store stops the pass between slices; it resolves null and the next open finishes the work', async () => {
  const first = open({ reconcile: 'now' });
  const lost = first.add(testGeneration()).id;
  rmSync(first.imageFile(lost)!);
  first.close();

  const store = open();
  store.close();
  expect(await store.reconciled).toBeNull();

  const again = open();
  expect((await again.reconciled)!.missingFiles).toEqual([lost]);
});

test('runInSlices gives the event loop a turn between slices', async () => {
  function* steps(): Generator<void, string, void> {
    for (let i = 0; i < 20; i++) {
      const end = performance.now() + 2;
      while (performance.now() < end); // 2 ms of work per step
      yield;
    }
    return 'done';
  }
  let ticks = 0;
  const timer = setInterval(() => ticks++, 0);
  try {
    expect(await runInSlices(steps(), { sliceMs: 4 })).toBe('done');
  } finally {
    clearInterval(timer);
  }
  // 40 ms of work in slices of ~4 ms: timers ran in between (all at once would give none).
  expect(ticks).toBeGreaterThan(3);
});
