import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { Settings } from '../../../shared/contract';
import { decodePng, encodePng, listChunks, readPngText } from '../io/png';
import { a1111Parameters } from './a1111Infotext';
import { type Fingerprint, type GalleryOptions, GalleryError, GalleryStore, type NewGeneration, downscaleBox, fingerprintDiff, ftsQuery } from './store';
import { TEST_FINGERPRINT, TEST_SETTINGS, testGeneration } from './testing/generation';

const SETTINGS: Settings = TEST_SETTINGS;
const FINGERPRINT: Fingerprint = { ...TEST_FINGERPRINT, modelHashes: { ...TEST_FINGERPRINT.modelHashes, 'text/model.onnx': 'b'.repeat(64) } };

function pixels(w = 8, h = 8, seed = 1): { width: number; height: number; data: Uint8Array } {
  const data = new Uint8Array(w * h * 4);
  for (let i = 0; i < data.length; i++) data[i] = (i % 4 === 3 ? 255 : (i * 37 + seed * 11) & 0xff);
  return { width: w, height: h, data };
}

/** testGeneration with this file's cost, duration, fingerprint and picture, which its assertions name. */
const generation = (over: Parameters<typeof testGeneration>[0] = {}): NewGeneration =>
  testGeneration({ cost: { nfe: 60, networkRows: 120, guidanceEvaluations: 40, classifierCalls: 0 }, durationMs: 123.5, fingerprint: FINGERPRINT, image: pixels(), ...over });

let dir: string;
const stores: GalleryStore[] = [];

function open(options: GalleryOptions = {}): GalleryStore {
  const store = GalleryStore.open(dir, { orphanGraceMs: 0, ...options });
  stores.push(store);
  return store;
}

/** Files under the data folder's image folders, temp files included. */
function filesIn(sub: string): string[] {
  return existsSync(path.join(dir, sub)) ? readdirSync(path.join(dir, sub)).sort() : [];
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'gallery-store-'));
});
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('add and read back', () => {
  test('open creates the data folder layout; add/get/list round-trip with exactly the contract types', () => {
    const store = open();
    for (const sub of ['gallery.sqlite', 'images', 'thumbnails', 'recovered']) expect(existsSync(path.join(dir, sub))).toBe(true);
    expect(store.openReport).toEqual({ orphanFiles: [], missingFiles: [], rebuiltThumbnails: [] });

    const gen = generation({ warnings: ['clipped x0'], settings: { spacing: [999, 500, 0], steps: 3 } });
    const record = store.add(gen);
    expect(Object.keys(record).sort()).toEqual(
      ['cost', 'createdAt', 'durationMs', 'height', 'id', 'modelId', 'modelName', 'parentId', 'prompt', 'provider', 'seed', 'settings', 'solver', 'steps', 'warnings', 'width'].sort(),
    );
    expect(record).toEqual({
      id: 1, createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/), modelId: gen.modelId, modelName: gen.modelName,
      prompt: SETTINGS.prompt, solver: 'stsp4', steps: 3, seed: 42, width: 8, height: 8, parentId: null,
      settings: gen.settings, cost: gen.cost, provider: 'cpu', durationMs: 123.5, warnings: ['clipped x0'],
    });
    expect(store.get(record.id)).toEqual(record);
    expect(store.get(999)).toBeNull();

    const listed = store.list({ offset: 0, limit: 60 });
    expect(listed.total).toBe(1);
    expect(Object.keys(listed.items[0]).sort()).toEqual(['createdAt', 'height', 'id', 'modelId', 'modelName', 'parentId', 'prompt', 'seed', 'solver', 'steps', 'width']);
    const { settings: _s, cost: _c, provider: _p, durationMs: _d, warnings: _w, ...summary } = record;
    expect(listed.items[0]).toEqual(summary);

    expect(store.meta(record.id)).toEqual({
      id: 1, favourite: false, tags: [], deletedAt: null, missing: false, modelHash: 'abcdef1234', solverOrder: 4, nfe: 60, fingerprint: FINGERPRINT,
    });

    // Survives a reopen.
    store.close();
    const again = open();
    expect(again.get(record.id)).toEqual(record);
  });

  test('the PNG holds the pixels and well-formed tEXt parameters / iTXt split-studio chunks; the thumbnail too', () => {
    const store = open();
    const image = pixels();
    const gen = generation({ image });
    const { id } = store.add(gen);
    const file = store.imageFile(id)!;
    expect(path.dirname(file)).toBe(path.join(dir, 'images'));
    expect(path.basename(file)).toMatch(/^[0-9a-f]{32}\.png$/);
    const bytes = new Uint8Array(readFileSync(file));

    const chunks = listChunks(bytes);
    expect(chunks.every((c) => c.crcOk)).toBe(true);
    expect(chunks.map((c) => c.type)).toEqual(['IHDR', 'tEXt', 'tEXt', 'iTXt', 'IDAT', 'IEND']);
    const text = readPngText(bytes);
    expect(text.parameters).toBe(a1111Parameters(gen.settings, { modelHash: 'abcdef1234', modelName: 'pixel-8x8' }));
    expect(text.parameters.split('\n')[2]).toMatch(/^Steps: 20, Sampler: STSP-4, CFG scale: 3, Seed: 42, Size: 8x8, Model hash: abcdef1234, Model: pixel-8x8, /);
    expect(JSON.parse(text['split-studio'])).toEqual(gen.settings);
    expect(text.Software).toBe('Split Studio 0.1.0');
    const decoded = decodePng(bytes);
    expect([decoded.width, decoded.height]).toEqual([8, 8]);
    expect(decoded.data).toEqual(image.data);

    // Small images: the thumbnail has the same pixels.
    const thumb = decodePng(readFileSync(store.thumbnailFile(id)!));
    expect(thumb.data).toEqual(image.data);
  });

  test('a prompt that is not Latin-1 puts parameters in an iTXt chunk', () => {
    const store = open();
    const { id } = store.add(generation({ settings: { prompt: '富士山と桜', negativePrompt: '' } }));
    const bytes = new Uint8Array(readFileSync(store.imageFile(id)!));
    expect(listChunks(bytes).map((c) => c.type)).toEqual(['IHDR', 'tEXt', 'iTXt', 'iTXt', 'IDAT', 'IEND']);
    expect(readPngText(bytes).parameters.split('\n')[0]).toBe('富士山と桜');
  });

  test('a large image gets a box-downscaled thumbnail of at most 256 px', () => {
    const store = open();
    const { id } = store.add(generation({ image: pixels(600, 300), settings: { width: 600, height: 300 } }));
    const thumb = decodePng(readFileSync(store.thumbnailFile(id)!));
    expect([thumb.width, thumb.height]).toEqual([256, 128]);
    expect(store.get(id)).toMatchObject({ width: 600, height: 300 });
  });

  test('invalid input is refused before any file is written', () => {
    const store = open();
    expect(() => store.add(generation({ settings: { solver: 'euler9' } }))).toThrow(GalleryError);
    expect(() => store.add(generation({ settings: { steps: 0 } }))).toThrow(/settings: steps/);
    expect(() => store.add(generation({ parentId: 77 }))).toThrow(/parent generation 77 does not exist/);
    expect(() => store.add(generation({ image: { width: 8, height: 8, data: new Uint8Array(10) } }))).toThrow(/RGBA/);
    expect(() => store.add(generation({ cost: { nfe: -1, networkRows: 0, guidanceEvaluations: 0, classifierCalls: 0 } }))).toThrow(/cost: nfe/);
    expect(filesIn('images')).toEqual([]);
    expect(filesIn('thumbnails')).toEqual([]);
    expect(store.list().total).toBe(0);
  });
});

describe('crash safety', () => {
  test('a failure after the files are written leaves no row and no stray file', () => {
    const store = open({
      hooks: {
        afterFilesWritten: (files) => {
          expect(existsSync(files.image) && existsSync(files.thumbnail)).toBe(true);
          throw new Error('simulated crash');
        },
      },
    });
    expect(() => store.add(generation())).toThrow('simulated crash');
    expect(store.list({ includeDeleted: true }).total).toBe(0);
    expect(filesIn('images')).toEqual([]); // no temp files either
    expect(filesIn('thumbnails')).toEqual([]);
  });

  test('an insert that fails in the database removes the files', () => {
    const store = open();
    // Make the insert itself fail: a trigger that aborts every insert.
    const db = (store as unknown as { db: import('./db').Database }).db;
    db.exec("CREATE TEMP TRIGGER no_insert BEFORE INSERT ON generations BEGIN SELECT RAISE(ABORT, 'disk full (simulated)'); END");
    expect(() => store.add(generation())).toThrow(/disk full/);
    expect(filesIn('images')).toEqual([]);
    expect(filesIn('thumbnails')).toEqual([]);
  });

  test('a hard crash between file and row (files left behind) is recovered at the next open, not lost', () => {
    const saved = path.join(dir, 'saved');
    const store = open({
      hooks: {
        afterFilesWritten: (files) => {
          // What a killed process leaves behind: keep copies, then "die".
          copyFileSync(files.image, `${saved}-image`);
          copyFileSync(files.thumbnail, `${saved}-thumb`);
          throw new Error('killed');
        },
      },
    });
    expect(() => store.add(generation())).toThrow('killed');
    store.close();
    const name = 'c0ffee00c0ffee00c0ffee00c0ffee00.png';
    copyFileSync(`${saved}-image`, path.join(dir, 'images', name));
    copyFileSync(`${saved}-thumb`, path.join(dir, 'thumbnails', name));

    const reopened = open();
    expect(reopened.openReport.orphanFiles.sort()).toEqual([path.join(dir, 'recovered', name), path.join(dir, 'recovered', 'thumbnails', name)].sort());
    expect(reopened.list().total).toBe(0);
    expect(filesIn('images')).toEqual([]);
    expect(JSON.parse(readPngText(readFileSync(path.join(dir, 'recovered', name)))['split-studio'])).toEqual(SETTINGS);
  });
});

describe('search', () => {
  function seed(store: GalleryStore) {
    const fox = store.add(generation({ settings: { prompt: 'a red fox in the snow, photo-realistic', negativePrompt: 'blurry' } })).id;
    const owl = store.add(generation({ settings: { prompt: 'an owl at night', negativePrompt: 'daylight, "sun"' } })).id;
    const café = store.add(generation({ settings: { prompt: 'Café terrace at night, Van Gogh style', negativePrompt: '' } })).id;
    return { fox, owl, café };
  }
  const ids = (r: { items: { id: number }[] }) => r.items.map((i) => i.id);

  test('finds words in the prompt, the negative prompt and the tags; the last word is a prefix; words are ANDed', () => {
    const store = open();
    const { fox, owl, café } = seed(store);
    expect(ids(store.list({ search: 'fox' }))).toEqual([fox]);
    expect(ids(store.list({ search: 'FOX' }))).toEqual([fox]);
    expect(ids(store.list({ search: 'daylight' }))).toEqual([owl]);
    expect(ids(store.list({ search: 'night' }))).toEqual([café, owl]);
    expect(ids(store.list({ search: 'night owl' }))).toEqual([owl]);
    expect(ids(store.list({ search: 'te' }))).toEqual([café]); // prefix: terrace
    expect(ids(store.list({ search: 'cafe' }))).toEqual([café]); // diacritics folded
    expect(ids(store.list({ search: 'photo-realistic' }))).toEqual([fox]);
    expect(ids(store.list({ search: 'sun' }))).toEqual([owl]);
    expect(store.list({ search: 'zebra' })).toEqual({ items: [], total: 0 });

    store.setTags(owl, ['Nocturne', 'birds']);
    expect(ids(store.list({ search: 'nocturne' }))).toEqual([owl]);
    expect(ids(store.list({ search: 'bird' }))).toEqual([owl]);
    store.setTags(owl, ['keeper']);
    expect(ids(store.list({ search: 'nocturne' }))).toEqual([]);
    expect(ids(store.list({ search: 'keeper owl' }))).toEqual([owl]);
    expect(ids(store.list({ search: 'owl' }))).toEqual([owl]); // the prompt stays indexed through tag changes
  });

  test('punctuation, quotes and FTS5 syntax in the query are only text', () => {
    const store = open();
    const { fox, owl } = seed(store);
    const nasty = [
      '"', "'", '"unterminated', 'fox"', 'AND', 'OR', 'NOT', 'fox OR owl', 'fox NOT owl', 'NEAR(fox owl)', 'prompt:fox', '{prompt}: fox', '*', 'fox*',
      '^fox', '(', ')', '-fox', '+', 'a AND', "'; DROP TABLE generations; --", '\\', '%_', '""""', 'négatif: "x" OR (y', '\u0000', '🦊', ':', 'fox:', '.',
    ];
    for (const q of nasty) expect(() => store.list({ search: q }), q).not.toThrow();
    expect(ids(store.list({ search: '"fox"' }))).toEqual([fox]);
    expect(ids(store.list({ search: 'fox OR owl' }))).toEqual([]); // OR is a word here, and no prompt has it
    expect(ids(store.list({ search: 'prompt:fox' }))).toEqual([]); // the phrase "prompt fox"
    expect(ids(store.list({ search: '(fox)' }))).toEqual([fox]);
    expect(ids(store.list({ search: '"sun"' }))).toEqual([owl]);
    // Nothing searchable left: no text filter.
    expect(store.list({ search: '!!! --- "' }).total).toBe(3);
    expect(store.list({ search: '' }).total).toBe(3);
    expect(store.list().total).toBe(3);
  });

  test('ftsQuery quotes every term and makes the last a prefix', () => {
    expect(ftsQuery('red fox')).toBe('"red" "fox"*');
    expect(ftsQuery('  say "hi"  ')).toBe('"say" """hi"""*');
    expect(ftsQuery('NEAR(a b) OR c')).toBe('"NEAR(a" "b)" "OR" "c"*');
    expect(ftsQuery('-- !! ')).toBeNull();
  });
});

describe('filters, paging and lineage', () => {
  test('filters by model, solver, task, favourite and date; pages are newest first and do not overlap', () => {
    let clock = Date.parse('2025-03-01T12:00:00.000Z');
    const store = open({ now: () => new Date(clock) });
    const solvers = ['ddim', 'stsp4', 'ltsp2'];
    const created: number[] = [];
    for (let i = 0; i < 30; i++) {
      clock += 3600_000; // one hour apart
      created.push(store.add(generation({
        modelId: i % 2 ? 'model-a' : 'model-b',
        settings: { solver: solvers[i % 3], task: i % 5 === 0 ? 'img2img' : 'txt2img', seed: i, prompt: `lighthouse number ${i}` },
      })).id);
    }
    for (const id of created.filter((_, i) => i % 4 === 0)) store.setFavourite(id, true);

    const all = store.list({ offset: 0, limit: 7 });
    expect(all.total).toBe(30);
    expect(all.items.map((i) => i.seed)).toEqual([29, 28, 27, 26, 25, 24, 23]);
    const seen: number[] = [];
    for (let offset = 0; offset < 30; offset += 7) seen.push(...store.list({ offset, limit: 7 }).items.map((i) => i.id));
    expect(seen).toEqual([...created].reverse());
    expect(store.list({ offset: 30, limit: 7 })).toEqual({ items: [], total: 30 });

    const seeds = (q: Parameters<GalleryStore['list']>[0]) => store.list({ limit: 100, ...q }).items.map((i) => i.seed);
    const expected = (pred: (i: number) => boolean) => [...Array(30).keys()].filter(pred).reverse();
    expect(seeds({ modelId: 'model-a' })).toEqual(expected((i) => i % 2 === 1));
    expect(seeds({ solver: 'stsp4' })).toEqual(expected((i) => i % 3 === 1));
    expect(seeds({ solver: 'stsp4', modelId: 'model-a' })).toEqual(expected((i) => i % 3 === 1 && i % 2 === 1));
    expect(seeds({ task: 'img2img' })).toEqual(expected((i) => i % 5 === 0));
    expect(seeds({ favourite: true })).toEqual(expected((i) => i % 4 === 0));
    expect(seeds({ favourite: false }).length).toBe(22);
    // Item i was created at 12:00 + (i + 1) h on 2025-03-01.
    expect(seeds({ from: '2025-03-01T15:00:00Z', to: new Date('2025-03-01T18:00:00Z') })).toEqual([4, 3, 2]);
    expect(seeds({ from: '2025-03-02T00:00:00.000Z', solver: 'ddim', search: 'lighthouse' })).toEqual(expected((i) => i >= 11 && i % 3 === 0));
    expect(store.list({ limit: 2, solver: 'ddim', modelId: 'model-b', search: 'light' }).total).toBe(5);
    expect(() => store.list({ from: 'yesterday' })).toThrow(/not a date/);
    expect(() => store.list({ limit: 0 })).toThrow(/limit/);
    expect(() => store.list({ offset: -1 })).toThrow(/offset/);
  });

  test('children lists re-runs; deleting a parent for good clears their parentId', () => {
    const store = open();
    const parent = store.add(generation()).id;
    const a = store.add(generation({ parentId: parent, settings: { seed: 1 } }));
    const b = store.add(generation({ parentId: parent, settings: { seed: 2 } }));
    const grandchild = store.add(generation({ parentId: a.id }));
    expect(a.parentId).toBe(parent);
    expect(store.children(parent).map((c) => c.id)).toEqual([a.id, b.id]);
    expect(store.children(a.id).map((c) => c.id)).toEqual([grandchild.id]);
    expect(store.children(b.id)).toEqual([]);

    store.trash(b.id);
    expect(store.children(parent).map((c) => c.id)).toEqual([a.id]);
    store.trash(parent);
    expect(store.get(a.id)!.parentId).toBe(parent); // trash is reversible: lineage kept
    store.emptyTrash();
    expect(store.get(a.id)!.parentId).toBeNull();
    expect(store.get(grandchild.id)!.parentId).toBe(a.id);
  });
});

describe('favourites, tags and the trash', () => {
  test('favourite and tags', () => {
    const store = open();
    const { id } = store.add(generation());
    store.setFavourite(id, true);
    expect(store.meta(id)!.favourite).toBe(true);
    expect(store.setTags(id, ['  winter ', 'fox', 'winter', '', 'red   fox'])).toEqual(['fox', 'red fox', 'winter']);
    expect(store.meta(id)!.tags).toEqual(['fox', 'red fox', 'winter']);
    store.setFavourite(id, false);
    expect(store.meta(id)).toMatchObject({ favourite: false, tags: ['fox', 'red fox', 'winter'] });
    store.setTags(id, []);
    expect(store.meta(id)!.tags).toEqual([]);
    expect(() => store.setTags(id, ['x'.repeat(101)])).toThrow(/longer than 100/);
    expect(() => store.setFavourite(99, true)).toThrow(expect.objectContaining({ code: 'not-found' }));
    expect(() => store.setTags(99, ['a'])).toThrow(/no generation 99/);
    expect(() => store.trash(99)).toThrow(GalleryError);
    expect(() => store.restore(99)).toThrow(GalleryError);
  });

  test('trash hides, restore brings back, emptyTrash deletes rows and files', () => {
    const store = open();
    const keep = store.add(generation()).id;
    const gone = store.add(generation({ settings: { prompt: 'to be deleted' } })).id;
    store.setTags(gone, ['doomed']);
    const files = [store.imageFile(gone)!, store.thumbnailFile(gone)!];

    store.trash(gone);
    store.trash(gone); // again: no change, no error
    expect(store.list().items.map((i) => i.id)).toEqual([keep]);
    expect(store.list({ search: 'deleted' }).total).toBe(0);
    expect(store.list({ includeDeleted: true }).total).toBe(2);
    expect(store.list({ onlyDeleted: true }).items.map((i) => i.id)).toEqual([gone]);
    expect(store.meta(gone)!.deletedAt).toMatch(/Z$/);
    expect(store.get(gone)).not.toBeNull();

    store.restore(gone);
    expect(store.list().total).toBe(2);
    expect(store.meta(gone)!.deletedAt).toBeNull();

    store.trash(gone);
    expect(store.emptyTrash().deleted).toEqual([gone]);
    expect(store.get(gone)).toBeNull();
    expect(store.imageFile(gone)).toBeNull();
    for (const f of files) expect(existsSync(f)).toBe(false);
    expect(store.list({ includeDeleted: true, search: 'doomed' }).total).toBe(0);
    expect(store.list({ includeDeleted: true }).items.map((i) => i.id)).toEqual([keep]);
    expect(existsSync(store.imageFile(keep)!)).toBe(true);
    expect(store.emptyTrash()).toEqual({ deleted: [], freedBytes: 0 });
  });
});

describe('reconcile', () => {
  test('an orphan file moves to recovered/, a row whose image is gone is marked missing and kept', () => {
    const store = open();
    const ok = store.add(generation()).id;
    const lost = store.add(generation({ settings: { prompt: 'lost image' } })).id;
    const lostFile = store.imageFile(lost)!;
    store.close();

    rmSync(lostFile);
    writeFileSync(path.join(dir, 'images', 'stray.png'), 'not even a png');
    writeFileSync(path.join(dir, 'images', '.0123.png.999.1.tmp'), 'half-written');

    const reopened = open();
    expect(reopened.openReport.missingFiles).toEqual([lost]);
    expect(reopened.openReport.orphanFiles.sort()).toEqual([path.join(dir, 'recovered', '.0123.png.999.1.tmp'), path.join(dir, 'recovered', 'stray.png')]);
    expect(readFileSync(path.join(dir, 'recovered', 'stray.png'), 'utf8')).toBe('not even a png');
    expect(filesIn('images')).toHaveLength(1);
    expect(reopened.meta(lost)!.missing).toBe(true);
    expect(reopened.imageFile(lost)).toBeNull();
    expect(reopened.thumbnailFile(lost)).toBeNull();
    expect(reopened.list({ search: 'lost' }).items.map((i) => i.id)).toEqual([lost]); // never silently dropped
    expect(reopened.meta(ok)!.missing).toBe(false);

    // A second orphan with the same name does not overwrite the first.
    writeFileSync(path.join(dir, 'images', 'stray.png'), 'second');
    expect(reopened.reconcile().orphanFiles).toEqual([path.join(dir, 'recovered', 'stray-1.png')]);

    // The file comes back: the mark goes.
    writeFileSync(lostFile, readFileSync(reopened.imageFile(ok)!));
    expect(reopened.reconcile().missingFiles).toEqual([]);
    expect(reopened.meta(lost)!.missing).toBe(false);
    expect(reopened.imageFile(lost)).toBe(lostFile);
  });

  test('two stores on one data folder (app and CLI) see each other and do not take each other’s files', () => {
    const app = open({ orphanGraceMs: 60_000 });
    const cli = open({ orphanGraceMs: 60_000 });
    const { id } = cli.add(generation({ settings: { prompt: 'made by the cli' } }));
    expect(app.list({ search: 'cli' }).items.map((i) => i.id)).toEqual([id]);
    expect(app.reconcile()).toEqual({ orphanFiles: [], missingFiles: [], rebuiltThumbnails: [] });
    app.trash(id);
    expect(cli.emptyTrash().deleted).toEqual([id]);
    expect(app.get(id)).toBeNull();
    expect(filesIn('images')).toEqual([]);
  });

  test('young unreferenced files are left alone (another process may be mid-add); a lost thumbnail is rebuilt', () => {
    const store = open();
    const { id } = store.add(generation());
    const thumb = store.thumbnailFile(id)!;
    const expected = readFileSync(thumb);
    rmSync(thumb);
    writeFileSync(path.join(dir, 'images', 'young.png'), 'x');
    writeFileSync(path.join(dir, 'images', 'old.png'), 'x');
    const old = (Date.now() - 3600_000) / 1000;
    utimesSync(path.join(dir, 'images', 'old.png'), old, old);
    store.close();

    const reopened = open({ orphanGraceMs: 60_000 });
    expect(reopened.openReport).toEqual({ orphanFiles: [path.join(dir, 'recovered', 'old.png')], missingFiles: [], rebuiltThumbnails: [id] });
    expect(existsSync(path.join(dir, 'images', 'young.png'))).toBe(true);
    expect(readFileSync(reopened.thumbnailFile(id)!)).toEqual(expected);
  });
});

describe('helpers', () => {
  test('fingerprintDiff names what changed', () => {
    expect(fingerprintDiff(FINGERPRINT, structuredClone(FINGERPRINT))).toEqual([]);
    const b: Fingerprint = {
      engineVersion: '0.2.0',
      onnxruntimeVersion: '1.31.0',
      provider: 'cuda',
      modelHashes: { 'unet/model.onnx': 'c'.repeat(64), 'vae/model.onnx': 'd'.repeat(64) },
      noiseGenerator: 'philox',
    };
    expect(fingerprintDiff(FINGERPRINT, b)).toEqual([
      'engine version: 0.1.0 → 0.2.0',
      'onnxruntime version: 1.30.0 → 1.31.0',
      'provider: cpu → cuda',
      'model file text/model.onnx: removed',
      `model file unet/model.onnx: hash ${'a'.repeat(12)}… → ${'c'.repeat(12)}…`,
      'model file vae/model.onnx: added',
      'noise generator: torch.randn CPU (MT19937), float32 → philox',
    ]);
  });

  test('downscaleBox averages areas, weights colour by alpha, and leaves small images alone', () => {
    // 512 x 256 checkerboard of black and white pixels -> 256 x 128 of mid grey.
    const w = 512;
    const h = 256;
    const data = new Uint8Array(w * h * 4);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.fill((x + y) % 2 ? 255 : 0, (y * w + x) * 4, (y * w + x) * 4 + 3), (data[(y * w + x) * 4 + 3] = 255);
    const t = downscaleBox({ width: w, height: h, data });
    expect([t.width, t.height]).toEqual([256, 128]);
    expect(new Set(t.data)).toEqual(new Set([128, 255]));

    // 3 x 1 -> at most 2 px: 1.5 source pixels per output pixel.
    const row = downscaleBox({ width: 3, height: 1, data: Uint8Array.of(0, 0, 0, 255, 90, 90, 90, 255, 240, 240, 240, 255) }, 2);
    expect([...row.data]).toEqual([30, 30, 30, 255, 190, 190, 190, 255]);

    // A transparent pixel does not pull the colour towards its (black) RGB.
    const alpha = downscaleBox({ width: 2, height: 2, data: Uint8Array.of(200, 100, 50, 255, 0, 0, 0, 0, 200, 100, 50, 255, 0, 0, 0, 0) }, 1);
    expect([...alpha.data]).toEqual([200, 100, 50, 128]);

    const small = pixels(40, 20);
    expect(downscaleBox(small)).toBe(small);
    expect(encodePng({ ...downscaleBox(pixels(1000, 3)), channels: 4 }).length).toBeGreaterThan(0);
    expect(downscaleBox(pixels(1000, 3))).toMatchObject({ width: 256, height: 1 });
  });
});
