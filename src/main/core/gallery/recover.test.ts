/**
 * A gallery database emptied, deleted or damaged outside the app: refused with a specific
 * error, with every file left as it was (the database not rewritten, no image moved), and
 * rebuilt from the images' own metadata by GalleryStore.recover.
 */
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { Settings } from '../../../shared/contract';
import { DatabaseDamagedError } from './db';
import { type Fingerprint, GalleryError, GalleryStore, type NewGeneration, RECOVERED_WARNING } from './store';

const SETTINGS: Settings = {
  task: 'txt2img', prompt: 'a red fox in the snow', negativePrompt: 'blurry', classLabel: null, classifierScale: 0, solver: 'stsp4',
  steps: 20, guidance: 3, conditionAt: 'exact', consistencyScale: 0.01, seed: 42, width: 8, height: 8, spacing: 'linspace', clipX0: null, strength: 1,
};
const FINGERPRINT: Fingerprint = { engineVersion: '0.1.0', onnxruntimeVersion: '1.30.0', provider: 'cpu', modelHashes: {}, noiseGenerator: 'torch.randn CPU (MT19937), float32' };

function generation(settings: Partial<Settings>): NewGeneration {
  const data = new Uint8Array(8 * 8 * 4).map((_, i) => (i % 4 === 3 ? 255 : (i * 37 + (settings.seed ?? 0)) & 0xff));
  return {
    modelId: '/models/pixel-8x8', modelName: 'pixel-8x8', modelHash: 'abcdef1234', provider: 'cpu',
    cost: { nfe: 20, networkRows: 20, guidanceEvaluations: 0, classifierCalls: 0 }, durationMs: 10, warnings: [], parentId: null,
    fingerprint: FINGERPRINT, image: { width: 8, height: 8, data }, settings: { ...SETTINGS, ...settings },
  };
}

let dir: string;
const db = () => path.join(dir, 'gallery.sqlite');

/** Every file under the data folder with its bytes (base64), to prove nothing changed. */
function tree(root = dir): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(root, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    out[path.relative(root, file)] = readFileSync(file).toString('base64');
  }
  return out;
}

/** A gallery with three generations (one trashed), closed; their settings by seed. */
function populate(): Settings[] {
  const store = GalleryStore.open(dir, { orphanGraceMs: 0 });
  const made = [1, 2, 3].map((seed) => store.add(generation({ seed, prompt: `picture ${seed}`, solver: seed === 2 ? 'ddim' : 'stsp4' })));
  store.trash(made[2].id);
  store.close();
  return made.map((r) => r.settings);
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'gallery-recover-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('an untrusted database is refused, and nothing is changed', () => {
  test.each([
    ['emptied (0 bytes)', () => writeFileSync(db(), ''), /gallery\.sqlite is empty \(it has no tables\), but .*images holds 3 of its images/],
    ['deleted', () => rmSync(db()), /gallery\.sqlite is missing, but .*images holds 3 of its images/],
    ['overwritten with garbage', () => writeFileSync(db(), 'garbage '.repeat(1000)), /gallery\.sqlite cannot be opened: file is not a database/],
  ])('%s', (_name, damage, message) => {
    populate();
    for (const suffix of ['-wal', '-shm']) rmSync(db() + suffix, { force: true });
    damage();
    const before = tree();
    // Even with no grace period, when reconcile would move unreferenced images at once.
    const open = () => GalleryStore.open(dir, { orphanGraceMs: 0 });
    expect(open).toThrow(DatabaseDamagedError);
    expect(open).toThrow(message);
    expect(open).toThrow(/Nothing was changed and no image was moved\. Run `split-studio gallery recover`/);
    expect(tree()).toEqual(before);
  });

  test('damaged past the header (pages overwritten): refused the same way, nothing changed', () => {
    populate();
    for (const suffix of ['-wal', '-shm']) rmSync(db() + suffix, { force: true });
    const size = statSync(db()).size;
    const fd = openSync(db(), 'r+');
    writeSync(fd, Buffer.alloc(size - 4096, 0x5a), 0, size - 4096, 4096);
    closeSync(fd);
    const before = tree();
    expect(() => GalleryStore.open(dir, { orphanGraceMs: 0 })).toThrow(/gallery\.sqlite is damaged: database disk image is malformed\. Nothing was changed/);
    expect(tree()).toEqual(before);
    expect(GalleryStore.recover(dir).recovered).toHaveLength(3);
  });

  test('an empty data folder (a first start) still opens, and so does an empty database without images', () => {
    GalleryStore.open(dir).close();
    writeFileSync(db(), '');
    GalleryStore.open(dir).close();
  });

  test('random bytes in the database file: refused or opened, never an image moved or the file replaced', () => {
    populate();
    const images = tree(path.join(dir, 'images'));
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 4096 }), (bytes) => {
        rmSync(db() + '-wal', { force: true });
        rmSync(db() + '-shm', { force: true });
        writeFileSync(db(), bytes);
        try {
          GalleryStore.open(dir, { orphanGraceMs: 0 }).close();
          return false; // random bytes are never a gallery with these images' rows
        } catch (error) {
          if (!(error instanceof DatabaseDamagedError)) throw error;
        }
        expect(Buffer.from(readFileSync(db())).equals(Buffer.from(bytes))).toBe(true);
        expect(tree(path.join(dir, 'images'))).toEqual(images);
        return true;
      }),
      { numRuns: 40 },
    );
  });
});

describe('recover', () => {
  test('rebuilds the rows with their settings from the PNGs, keeping the damaged file aside', () => {
    const settings = populate();
    const garbage = Buffer.from('not a database '.repeat(100));
    writeFileSync(db(), garbage);
    const images = tree(path.join(dir, 'images'));

    const report = GalleryStore.recover(dir, { modelIdFor: (name) => (name === 'pixel-8x8' ? '/models/pixel-8x8' : null), now: () => new Date('2026-01-02T03:04:05Z') });
    expect(report.recovered).toHaveLength(3);
    expect(report.skipped).toEqual([]);
    expect(report.movedAside[0]).toBe(path.join(dir, 'gallery.damaged-2026-01-02T03-04-05-000Z.sqlite'));
    expect(readFileSync(report.movedAside[0]).equals(garbage)).toBe(true);
    expect(tree(path.join(dir, 'images'))).toEqual(images);

    const store = GalleryStore.open(dir, { orphanGraceMs: 0 });
    try {
      expect(store.openReport).toEqual({ orphanFiles: [], missingFiles: [], rebuiltThumbnails: [] });
      const rows = report.recovered.map((id) => store.get(id)!);
      expect(rows.map((r) => r.settings).sort((a, b) => a.seed - b.seed)).toEqual(settings);
      for (const row of rows) {
        expect(row).toMatchObject({ modelId: '/models/pixel-8x8', modelName: 'pixel-8x8', provider: 'unknown', warnings: [RECOVERED_WARNING] });
        expect(store.imageFile(row.id)).not.toBeNull();
        expect(store.thumbnailFile(row.id)).not.toBeNull();
      }
      expect(store.list({ search: 'picture' }).total).toBe(3); // the full-text index has them too
    } finally {
      store.close();
    }
  });

  test('brings back images an earlier reconcile moved to recovered/, oldest first; leaves files without settings', () => {
    populate();
    rmSync(db() + '-wal', { force: true });
    rmSync(db() + '-shm', { force: true });
    const names = readdirSync(path.join(dir, 'images'));
    // What the old code did a minute after an emptied database: everything moved away.
    names.forEach((name, i) => {
      renameSync(path.join(dir, 'images', name), path.join(dir, 'recovered', name));
      utimesSync(path.join(dir, 'recovered', name), 1000 + i, 1000 + i);
    });
    writeFileSync(path.join(dir, 'recovered', 'stray.png'), 'not a png');
    writeFileSync(db(), '');
    // No images left in images/: an empty database opens (the loss already happened); recover is still offered.
    rmSync(db());
    writeFileSync(db(), 'garbage'.repeat(200));
    const report = GalleryStore.recover(dir);
    expect(report.recovered).toHaveLength(3);
    expect(readdirSync(path.join(dir, 'images'))).toHaveLength(3);
    expect(readdirSync(path.join(dir, 'recovered')).filter((n) => n.endsWith('.png'))).toEqual(['stray.png']);
    const store = GalleryStore.open(dir, { orphanGraceMs: 0 });
    try {
      const created = report.recovered.map((id) => store.get(id)!.createdAt);
      expect(created).toEqual([...created].sort());
      expect(report.recovered.map((id) => store.get(id)!.modelId)).toEqual(['pixel-8x8', 'pixel-8x8', 'pixel-8x8']);
    } finally {
      store.close();
    }
  });

  test('an empty but healthy database with images in recovered/ (what an older build left): recover brings them back', () => {
    populate();
    const names = readdirSync(path.join(dir, 'images'));
    for (const name of names) renameSync(path.join(dir, 'images', name), path.join(dir, 'recovered', name));
    for (const suffix of ['', '-wal', '-shm']) rmSync(db() + suffix, { force: true });
    GalleryStore.open(dir).close(); // the fresh, empty database the old code made
    const report = GalleryStore.recover(dir);
    expect(report.recovered).toHaveLength(3);
    expect(report.movedAside.length).toBeGreaterThan(0);
    const store = GalleryStore.open(dir, { orphanGraceMs: 0 });
    try {
      expect(store.list({ includeDeleted: true }).total).toBe(3);
    } finally {
      store.close();
    }
  });

  test('refuses a healthy database, changing nothing', () => {
    populate();
    const before = tree();
    expect(() => GalleryStore.recover(dir)).toThrow(GalleryError);
    expect(() => GalleryStore.recover(dir)).toThrow(/opens fine and has 3 generations; there is nothing to recover/);
    expect(Object.keys(tree()).filter((f) => f.startsWith('gallery.damaged'))).toEqual([]);
    expect(existsSync(db())).toBe(true);
    expect(Object.keys(tree()).filter((f) => f.startsWith('images/'))).toEqual(Object.keys(before).filter((f) => f.startsWith('images/')));
  });
});
