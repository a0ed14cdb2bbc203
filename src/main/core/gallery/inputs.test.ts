/**
 * The inputs kept with generations (init image, mask, initial noise): stored once per content,
 * deleted only when no generation uses them, and the schema step that adds them to a gallery
 * that already has rows.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { encodeNpy } from '../io/npy';
import { encodePng } from '../io/png';
import { MIGRATIONS, migrate } from './db';
import { encodeGalleryImage } from './galleryImage';
import { inputHash } from './inputs';
import { rerunInputFiles } from './rerun';
import { INSERT_SQL, generationRow } from './sql';
import { type GalleryOptions, GalleryStore } from './store';
import { TEST_SETTINGS, testGeneration } from './testing/generation';

let dir: string;
const stores: GalleryStore[] = [];

function open(options: GalleryOptions = {}): GalleryStore {
  const store = GalleryStore.open(dir, { orphanGraceMs: 0, ...options });
  stores.push(store);
  return store;
}

const inputFiles = () => (existsSync(path.join(dir, 'inputs')) ? readdirSync(path.join(dir, 'inputs')).sort() : []);

function picture(value: number): Uint8Array {
  return encodePng({ width: 8, height: 8, channels: 4, data: new Uint8Array(8 * 8 * 4).map((_, i) => (i % 4 === 3 ? 255 : (value + i) & 0xff)) });
}

const START = picture(10);
const MASK = picture(200);
const NOISE = encodeNpy(Float32Array.from({ length: 3 * 8 * 8 }, (_, i) => Math.sin(i)), [1, 3, 8, 8]);
const img2img = (inputs = { initImage: START }) => testGeneration({ settings: { task: 'img2img', strength: 0.5 }, inputs });

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'gallery-inputs-'));
});
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('add keeps the inputs', () => {
  test('each under its SHA-256, listed with the generation and read back byte for byte', () => {
    const store = open();
    const { id } = store.add(testGeneration({ settings: { task: 'inpaint' }, inputs: { initImage: START, mask: MASK, initNoise: NOISE } }));
    expect(store.inputs.of(id)).toEqual([
      { kind: 'initImage', hash: inputHash(START), bytes: START.length, width: 8, height: 8 },
      { kind: 'mask', hash: inputHash(MASK), bytes: MASK.length, width: 8, height: 8 },
      { kind: 'initNoise', hash: inputHash(NOISE), bytes: NOISE.length, width: null, height: null },
    ]);
    expect(inputFiles()).toEqual([`${inputHash(START)}.png`, `${inputHash(MASK)}.png`, `${inputHash(NOISE)}.npy`].sort());
    expect(readFileSync(store.inputs.file(id, 'mask')!)).toEqual(Buffer.from(MASK));
    expect(readFileSync(store.inputs.file(id, 'initNoise')!)).toEqual(Buffer.from(NOISE));
    expect(rerunInputFiles(store, id, 'inpaint').map((f) => [f.input.kind, f.file])).toEqual([
      ['initImage', store.inputs.file(id, 'initImage')],
      ['mask', store.inputs.file(id, 'mask')],
      ['initNoise', store.inputs.file(id, 'initNoise')],
    ]);
    // txt2img keeps nothing; a re-run as img2img of a generation without a picture says what is missing
    const plain = store.add(testGeneration()).id;
    expect(store.inputs.of(plain)).toEqual([]);
    expect(store.inputs.file(plain, 'initImage')).toBeNull();
    expect(() => rerunInputFiles(store, plain, 'img2img')).toThrow(/needs its init image, which generation \d+ does not have \(it was made before inputs were kept\)/);
    // reconcile leaves inputs/ alone
    expect(store.reconcile().orphanFiles).toEqual([]);
    expect(inputFiles()).toHaveLength(3);
  });

  test('the same bytes are stored once, whatever generations or kinds use them', () => {
    const store = open();
    const a = store.add(img2img()).id;
    const b = store.add(img2img()).id;
    const c = store.add(testGeneration({ settings: { task: 'inpaint' }, inputs: { initImage: START, mask: START } })).id;
    expect(inputFiles()).toEqual([`${inputHash(START)}.png`]);
    expect(store.inputs.file(a, 'initImage')).toBe(store.inputs.file(b, 'initImage'));
    expect(store.inputs.file(c, 'mask')).toBe(store.inputs.file(a, 'initImage'));
  });

  test('inputs that are not what their kind needs are refused before anything is written', () => {
    const store = open();
    expect(() => store.add(img2img({ initImage: new Uint8Array([1, 2, 3]) }))).toThrow(/init image is not a PNG/);
    expect(() => store.add(testGeneration({ inputs: { initNoise: START } }))).toThrow(/initial noise is not a readable \.npy/);
    expect(() => store.add(testGeneration({ inputs: { mask: new Uint8Array() } }))).toThrow(/mask must be non-empty bytes/);
    expect(() => store.add(testGeneration({ inputs: { picture: START } as never }))).toThrow(/unknown input "picture"/);
    expect(inputFiles()).toEqual([]);
    expect(store.list({ includeDeleted: true }).total).toBe(0);
  });

  test('a failed add removes the input files it wrote, never one another generation uses', () => {
    const store = open();
    const kept = store.add(img2img()).id;
    const failing = open({ hooks: { afterFilesWritten: () => { throw new Error('disk full'); } } });
    expect(() => failing.add(testGeneration({ settings: { task: 'inpaint' }, inputs: { initImage: START, mask: MASK } }))).toThrow(/disk full/);
    expect(inputFiles()).toEqual([`${inputHash(START)}.png`]);
    expect(existsSync(store.inputs.file(kept, 'initImage')!)).toBe(true);
  });

  test('an input file deleted between the write and the row (emptyTrash in another process) is written again under the lock', () => {
    const store = open();
    const file = path.join(dir, 'inputs', `${inputHash(START)}.png`);
    const racing = open({ hooks: { afterFilesWritten: () => rmSync(file) } });
    const { id } = racing.add(img2img());
    expect(readFileSync(store.inputs.file(id, 'initImage')!)).toEqual(Buffer.from(START));
  });
});

describe('emptyTrash and inputs', () => {
  test('an input stays while any generation, trashed or not, uses it, and goes with the last; its bytes are counted', () => {
    const store = open();
    const a = store.add(img2img()).id;
    const b = store.add(testGeneration({ settings: { task: 'inpaint' }, inputs: { initImage: START, mask: MASK } })).id;
    const c = store.add(testGeneration({ inputs: { initNoise: NOISE } })).id;
    const startFile = store.inputs.file(a, 'initImage')!;
    const maskFile = store.inputs.file(b, 'mask')!;
    const noiseFile = store.inputs.file(c, 'initNoise')!;
    const filesOf = (id: number) => statSync(store.imageFile(id)!).size + statSync(store.thumbnailFile(id)!).size;

    // a goes; b still uses the starting picture.
    store.trash(a);
    const aBytes = filesOf(a);
    expect(store.emptyTrash()).toEqual({ deleted: [a], freedBytes: aBytes });
    expect(existsSync(startFile)).toBe(true);

    // b in the trash, c live: b's pictures go with it (nothing else uses them), c's noise stays.
    store.trash(b);
    const bBytes = filesOf(b);
    expect(store.emptyTrash()).toEqual({ deleted: [b], freedBytes: bBytes + START.length + MASK.length });
    expect([existsSync(startFile), existsSync(maskFile), existsSync(noiseFile)]).toEqual([false, false, true]);
    expect(store.inputs.of(c).map((i) => i.kind)).toEqual(['initNoise']);

    // A new generation with the same picture stores it again.
    const d = store.add(img2img()).id;
    expect(readFileSync(store.inputs.file(d, 'initImage')!)).toEqual(Buffer.from(START));
  });

  test('a trashed generation keeps its inputs until the trash is emptied; restoring it keeps them usable', () => {
    const store = open();
    const a = store.add(img2img()).id;
    store.trash(a);
    const other = open();
    other.add(testGeneration()); // another process's add and reads do not touch them
    expect(existsSync(store.inputs.file(a, 'initImage')!)).toBe(true);
    store.restore(a);
    expect(store.emptyTrash()).toEqual({ deleted: [], freedBytes: 0 });
    expect(rerunInputFiles(store, a, 'img2img')).toHaveLength(1);
  });
});

describe('schema v2', () => {
  test('a gallery of the previous schema, with rows, gains the inputs tables; its rows and files are untouched', () => {
    // A v1 data folder as the previous build left it: the schema of MIGRATIONS[0] and two generations with their files.
    mkdirSync(path.join(dir, 'images'));
    mkdirSync(path.join(dir, 'thumbnails'));
    const file = path.join(dir, 'gallery.sqlite');
    const v1 = new BetterSqlite3(file);
    v1.pragma('journal_mode = WAL');
    expect(migrate(v1, file, MIGRATIONS.slice(0, 1))).toBe(1);
    const names = ['0'.repeat(32), '1'.repeat(32)].map((n) => `${n}.png`);
    const gen = testGeneration({ settings: { task: 'img2img', strength: 0.5 } });
    const encoded = encodeGalleryImage(gen.image as { width: number; height: number; data: Uint8Array }, gen.settings, { modelHash: gen.modelHash, modelName: gen.modelName, engineVersion: '0.1.0' });
    for (const [i, name] of names.entries()) {
      writeFileSync(path.join(dir, 'images', name), encoded.png);
      writeFileSync(path.join(dir, 'thumbnails', name), encoded.thumbnail);
      v1.prepare(INSERT_SQL).run(generationRow({
        createdAt: `2025-01-0${i + 1}T00:00:00.000Z`, settings: { ...TEST_SETTINGS, task: 'img2img', strength: 0.5, seed: i }, modelId: gen.modelId, modelName: gen.modelName,
        modelHash: gen.modelHash, width: 8, height: 8, provider: 'cpu', cost: gen.cost, durationMs: 1, warnings: [], fingerprint: gen.fingerprint, parentId: null,
        imageFile: name, thumbnailFile: name,
      }));
    }
    v1.close();

    const store = open();
    const db = new BetterSqlite3(file, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    const tables = (db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name);
    expect(tables).toEqual(expect.arrayContaining(['generations', 'inputs', 'generation_inputs']));
    db.close();
    expect(store.openReport).toEqual({ orphanFiles: [], missingFiles: [], rebuiltThumbnails: [] });
    const old = store.list().items.map((i) => i.id).sort();
    expect(old).toEqual([1, 2]);
    expect(store.get(1)!.settings).toMatchObject({ task: 'img2img', seed: 0 });
    expect(store.inputs.of(1)).toEqual([]);
    expect(() => rerunInputFiles(store, 1, 'img2img')).toThrow(/made before inputs were kept/);

    // New generations keep their inputs; the old ones delete as before.
    const added = store.add(img2img()).id;
    expect(added).toBe(3);
    expect(store.inputs.of(added)).toHaveLength(1);
    store.trash(1);
    expect(store.emptyTrash().deleted).toEqual([1]);
    expect(inputFiles()).toEqual([`${inputHash(START)}.png`]);
  });
});
