/**
 * Gallery benchmark: seeds `count` generations straight into the database (one transaction,
 * no image files, prompts made from a small word list) and times what the studio does most:
 * opening the gallery (reconcile included), the first page, a full-text search for a common
 * word, and a filtered page. Every figure is the median of several runs, in milliseconds.
 *
 * Seeded rows name image files that do not exist and are already marked missing, so open()
 * runs the whole reconcile but finds nothing to change. What it does not pay is listing and
 * matching `count` real files: with 100k empty image and thumbnail files made by hand, open
 * took 0.7 to 0.9 s on two cores shared with a training run (each folder listing ~0.1 s, the
 * temp-table fill ~0.1 s each, the set comparisons ~0.1 s).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Settings } from '../../../shared/contract';
import { SOLVER_IDS, solverInfo } from '../../../shared/solvers';
import { openDatabase } from './db';
import { DATABASE_FILE, type Fingerprint, GalleryStore, type InsertParams } from './store';

const SUBJECTS = [
  'portrait of an old fisherman', 'a red fox in the snow', 'a lighthouse on a cliff at dusk', 'a cozy cabin in the woods',
  'an astronaut riding a horse', 'a bowl of ramen on a wooden table', 'a cyberpunk street at night', 'a medieval castle on a hill',
  'a cat sleeping on a windowsill', 'a dragon flying over the mountains', 'a field of sunflowers', 'a steampunk airship above the clouds',
  'a koi pond in a japanese garden', 'an owl perched on a branch', 'a futuristic city skyline', 'a vase of tulips', 'a sailing ship in a storm',
  'a robot reading a book', 'a waterfall in a rainforest', 'a street market in marrakech',
];
const STYLES = ['oil painting', 'watercolor', 'photograph, 35mm film', 'digital art', 'ukiyo-e woodblock print', 'pencil sketch', 'cinematic still', 'isometric 3d render'];
const MODIFIERS = [
  'dramatic lighting', 'soft light', 'highly detailed', 'golden hour', 'volumetric fog', '4k', 'trending on artstation', 'bokeh', 'sharp focus',
  'muted colors', 'vibrant colors', 'wide angle', 'by greg rutkowski', 'intricate', 'moody atmosphere',
];
const NEGATIVES = ['blurry, lowres', 'watermark, text, signature', '', 'deformed, bad anatomy, extra fingers', 'oversaturated, jpeg artifacts', ''];
const TAGS = ['wallpaper', 'print', 'reference', 'keeper', 'family'];
const MODELS = ['models/pixel-8x8', 'models/pixel-32', 'models/latent-64', 'models/text-pixel-32'];

/** The word the search benchmark looks for: in the modifier list, so in roughly a fifth of the prompts. */
export const COMMON_WORD = 'detailed';

/** Small deterministic PRNG (mulberry32), so that every run seeds the same gallery. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function time<T>(fn: () => T): { ms: number; value: T } {
  const start = performance.now();
  const value = fn();
  return { ms: performance.now() - start, value };
}

function timeMedian(runs: number, fn: () => unknown): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(time(fn).ms);
  return median(times);
}

const round = (ms: number) => Math.round(ms * 100) / 100;

/** Inserts `count` realistic rows in one transaction, without image files. */
function seed(dataDir: string, count: number): void {
  const db = openDatabase(path.join(dataDir, DATABASE_FILE));
  try {
    db.pragma('cache_size = -131072'); // 128 MiB: the indexes' pages stay in memory while seeding
    const insert = db.prepare<InsertParams & { missing_at: string; favourite: number }>(`
      INSERT INTO generations (created_at, model_id, model_name, model_hash, task, solver, solver_order, steps, nfe,
        guidance, classifier_scale, seed, width, height, spacing, duration_ms, provider, prompt, negative_prompt,
        settings_json, cost_json, warnings_json, fingerprint_json, parent_id, image_file, thumbnail_file, missing_at, favourite)
      VALUES (@created_at, @model_id, @model_name, @model_hash, @task, @solver, @solver_order, @steps, @nfe,
        @guidance, @classifier_scale, @seed, @width, @height, @spacing, @duration_ms, @provider, @prompt, @negative_prompt,
        @settings_json, @cost_json, @warnings_json, @fingerprint_json, @parent_id, @image_file, @thumbnail_file, @missing_at, @favourite)`);
    const tag = db.prepare<[number, string]>('INSERT OR IGNORE INTO tags (generation_id, tag) VALUES (?, ?)');
    const random = prng(12345);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
    const start = Date.parse('2025-01-01T00:00:00.000Z');
    const span = 365 * 24 * 3600_000;
    const fingerprint: Fingerprint = {
      engineVersion: '0.1.0',
      onnxruntimeVersion: '1.30.0',
      provider: 'cpu',
      modelHashes: { 'unet/model.onnx': 'ab'.repeat(32) },
      noiseGenerator: 'torch.randn CPU (MT19937), float32',
    };
    const fingerprintJson = JSON.stringify(fingerprint);
    db.transaction(() => {
      let lastId = 0;
      for (let i = 0; i < count; i++) {
        const modifiers = new Set<string>();
        const n = 2 + Math.floor(random() * 3);
        while (modifiers.size < n) modifiers.add(pick(MODIFIERS));
        const solver = pick(SOLVER_IDS);
        const steps = pick([10, 15, 20, 25, 30, 50]);
        const side = pick([8, 32, 64]);
        const settings: Settings = {
          task: random() < 0.9 ? 'txt2img' : 'img2img',
          prompt: `${pick(SUBJECTS)}, ${pick(STYLES)}, ${[...modifiers].join(', ')}`,
          negativePrompt: pick(NEGATIVES),
          classLabel: null,
          classifierScale: 0,
          solver,
          steps,
          guidance: pick([1, 2, 3, 5, 7.5]),
          conditionAt: 'exact',
          consistencyScale: 0.01,
          seed: Math.floor(random() * 2 ** 32),
          width: side,
          height: side,
          spacing: 'linspace',
          clipX0: null,
          strength: 1,
        };
        const createdAt = new Date(start + Math.floor((i / count) * span)).toISOString();
        const name = `${i.toString(16).padStart(32, '0')}.png`;
        const row = {
          created_at: createdAt,
          model_id: pick(MODELS),
          model_name: 'bench model',
          model_hash: 'abababab12',
          task: settings.task,
          solver,
          solver_order: solverInfo(solver).order,
          steps,
          nfe: steps,
          guidance: settings.guidance,
          classifier_scale: 0,
          seed: settings.seed,
          width: side,
          height: side,
          spacing: 'linspace',
          duration_ms: 50 + random() * 2000,
          provider: 'cpu',
          prompt: settings.prompt,
          negative_prompt: settings.negativePrompt,
          settings_json: JSON.stringify(settings),
          cost_json: JSON.stringify({ nfe: steps, networkRows: steps * 2, guidanceEvaluations: steps, classifierCalls: 0 }),
          warnings_json: '[]',
          fingerprint_json: fingerprintJson,
          parent_id: lastId > 0 && random() < 0.1 ? 1 + Math.floor(random() * lastId) : null,
          image_file: name,
          thumbnail_file: name,
          missing_at: createdAt,
          favourite: random() < 0.03 ? 1 : 0,
        };
        lastId = Number(insert.run(row).lastInsertRowid);
        if (random() < 0.05) tag.run(lastId, pick(TAGS));
      }
    }).immediate();
  } finally {
    db.close();
  }
}

export async function runGalleryBenchmark(dataDir: string, count = 100_000): Promise<Record<string, number>> {
  mkdirSync(dataDir, { recursive: true });
  GalleryStore.open(dataDir).close(); // schema and folders
  const seeding = time(() => seed(dataDir, count));

  const opens: number[] = [];
  for (let i = 0; i < 5; i++) {
    const { ms, value } = time(() => GalleryStore.open(dataDir));
    opens.push(ms);
    value.close();
  }

  const store = GalleryStore.open(dataDir);
  try {
    const rows = store.list({ limit: 1 }).total;
    const runs = 9;
    const firstPage = timeMedian(runs, () => store.list({ offset: 0, limit: 60 }));
    const search = timeMedian(runs, () => store.list({ search: COMMON_WORD, offset: 0, limit: 60 }));
    const searchMatches = store.list({ search: COMMON_WORD, limit: 1 }).total;
    const filter = { solver: 'stsp4', modelId: MODELS[1] };
    const filtered = timeMedian(runs, () => store.list({ ...filter, offset: 0, limit: 60 }));
    const filteredMatches = store.list({ ...filter, limit: 1 }).total;
    const prefix = timeMedian(runs, () => store.list({ search: 'lighthouse dus', offset: 0, limit: 60 }));
    const deepPage = timeMedian(runs, () => store.list({ offset: Math.max(0, rows - 60), limit: 60 }));
    const get = timeMedian(runs, () => store.get(Math.max(1, rows >> 1)));
    return {
      rows,
      seedMs: round(seeding.ms),
      openMs: round(median(opens)),
      firstPageMs: round(firstPage),
      searchCommonWordMs: round(search),
      searchCommonWordMatches: searchMatches,
      filteredPageMs: round(filtered),
      filteredMatches,
      prefixSearchMs: round(prefix),
      lastPageMs: round(deepPage),
      getMs: round(get),
    };
  } finally {
    store.close();
  }
}
