/**
 * Gallery benchmark: seeds `count` generations straight into the database (one transaction,
 * prompts made from a small word list) and, with `files`, writes each row's image and
 * thumbnail (real PNGs: one 64x64 gallery PNG and its thumbnail, the same bytes for every
 * row), then times what the studio does most. Every figure is in milliseconds.
 *
 * Opening is timed both ways (store.ts, GalleryOptions.reconcile): with the reconcile in the
 * background (the studio), open's own time, when the background pass has finished, and the
 * longest the event loop was held meanwhile; and with the whole pass before open returns
 * (the CLI), which lists both folders and compares them with every row. Then the list
 * queries: first page, full-text search, filtered page, search by seed and by model name.
 * Without files the rows name images that do not exist and are already marked missing.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import path from 'node:path';
import type { Settings } from '../../../shared/contract';
import { SOLVER_IDS, solverInfo } from '../../../shared/solvers';
import { openDatabase } from './db';
import { encodeGalleryImage } from './galleryImage';
import { galleryDirs } from './layout';
import { reconcileSteps } from './reconcile';
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
/** The name each model's rows record (what the search box matches). */
const MODEL_NAMES: Record<string, string> = {
  'models/pixel-8x8': 'Pixel 8x8',
  'models/pixel-32': 'Pixel 32',
  'models/latent-64': 'Latent Diffusion 64',
  'models/text-pixel-32': 'Text Pixel 32',
};
/** The word of a model name the model search looks for: one model in four. */
export const MODEL_WORD = 'latent';

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

/** A gallery PNG and its thumbnail, as add() would write them. */
function benchImage(settings: Settings): { png: Uint8Array; thumbnail: Uint8Array } {
  const side = 64;
  const data = new Uint8Array(side * side * 4);
  for (let i = 0; i < data.length; i++) data[i] = i % 4 === 3 ? 255 : (i * 29 + (i >> 8) * 7) & 0xff;
  return encodeGalleryImage({ width: side, height: side, data }, settings, { modelHash: 'abababab12', modelName: 'Pixel 32', engineVersion: '0.1.0' });
}

/**
 * Inserts `count` realistic rows in one transaction; with `files`, writes each row's image
 * and thumbnail (else the rows are marked missing, as reconcile would). Returns one row's seed.
 */
export function seedGallery(dataDir: string, count: number, files: boolean): number {
  const db = openDatabase(path.join(dataDir, DATABASE_FILE));
  try {
    db.pragma('cache_size = -131072'); // 128 MiB: the indexes' pages stay in memory while seeding
    const insert = db.prepare<InsertParams & { missing_at: string | null; favourite: number }>(`
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
    let image: { png: Uint8Array; thumbnail: Uint8Array } | null = null;
    let someSeed = 0;
    const hex = () => Math.floor(random() * 2 ** 32).toString(16).padStart(8, '0');
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
        // Random names, as newImageName() gives: the folders list in no particular order.
        const name = `${hex()}${hex()}${hex()}${hex()}.png`;
        if (files) {
          image ??= benchImage(settings);
          writeFileSync(path.join(dataDir, 'images', name), image.png);
          writeFileSync(path.join(dataDir, 'thumbnails', name), image.thumbnail);
        }
        if (i === count >> 1) someSeed = settings.seed;
        const modelId = pick(MODELS);
        const row = {
          created_at: createdAt,
          model_id: modelId,
          model_name: MODEL_NAMES[modelId],
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
          missing_at: files ? null : createdAt,
          favourite: random() < 0.03 ? 1 : 0,
        };
        lastId = Number(insert.run(row).lastInsertRowid);
        if (random() < 0.05) tag.run(lastId, pick(TAGS));
      }
    }).immediate();
    return someSeed;
  } finally {
    db.close();
  }
}

export interface GalleryBenchOptions {
  /** Write every row's image and thumbnail (default true). */
  files?: boolean;
  /** Opens timed each way (median reported); default 5. */
  opens?: number;
}

export type GalleryFigures = Record<string, number>;

/** Opens with the reconcile in the background: open's time, when the pass ended, the longest event-loop block meanwhile, and a first page asked for at once. */
async function backgroundOpen(dataDir: string): Promise<{ openMs: number; reconciledMs: number; maxBlockMs: number; firstPageMs: number }> {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  const start = performance.now();
  const store = GalleryStore.open(dataDir, { reconcile: 'background' });
  const openMs = performance.now() - start;
  try {
    delay.enable();
    const firstPage = time(() => store.list({ offset: 0, limit: 60 }));
    await store.reconciled;
    const reconciledMs = performance.now() - start;
    delay.disable();
    return { openMs, reconciledMs, maxBlockMs: Math.max(delay.max / 1e6, firstPage.ms), firstPageMs: firstPage.ms };
  } finally {
    store.close();
  }
}

/**
 * One reconcile pass run step by step (the units a background slice is made of), each step's
 * wall and CPU time: on a machine shared with other work, wall time includes waiting for a
 * core, CPU time does not.
 */
function passSteps(dataDir: string): { steps: number; cpuMs: number; longestStepCpuMs: number; longestStepMs: number } {
  const db = openDatabase(path.join(dataDir, DATABASE_FILE));
  try {
    const steps = reconcileSteps({ db, dirs: galleryDirs(dataDir), now: () => new Date(), graceMs: 60_000 });
    let count = 0;
    let cpuMs = 0;
    let longestStepCpuMs = 0;
    let longestStepMs = 0;
    for (let done = false; !done; count++) {
      const cpu = process.cpuUsage();
      const start = performance.now();
      done = steps.next().done === true;
      const wall = performance.now() - start;
      const used = process.cpuUsage(cpu);
      const cpuStep = (used.user + used.system) / 1000;
      cpuMs += cpuStep;
      longestStepCpuMs = Math.max(longestStepCpuMs, cpuStep);
      longestStepMs = Math.max(longestStepMs, wall);
    }
    return { steps: count, cpuMs, longestStepCpuMs, longestStepMs };
  } finally {
    db.close();
  }
}

/** Median ms of a list query, and how many rows it matches. */
function listTiming(store: GalleryStore, query: Parameters<GalleryStore['list']>[0], runs = 9): { ms: number; total: number } {
  return { ms: timeMedian(runs, () => store.list({ offset: 0, limit: 60, ...query })), total: store.list({ ...query, limit: 1 }).total };
}

export async function runGalleryBenchmark(dataDir: string, count = 100_000, options: GalleryBenchOptions = {}): Promise<GalleryFigures> {
  const files = options.files ?? true;
  const opens = options.opens ?? 5;
  mkdirSync(dataDir, { recursive: true });
  GalleryStore.open(dataDir).close(); // schema and folders
  const seeding = time(() => seedGallery(dataDir, count, files));
  const someSeed = seeding.value;

  const figures: GalleryFigures = { rows: count, files: files ? 2 * count : 0, seedMs: round(seeding.ms) };
  const background = [];
  for (let i = 0; i < opens; i++) background.push(await backgroundOpen(dataDir));
  figures.openMs = round(median(background.map((b) => b.openMs)));
  background.forEach((b, i) => (figures[`open${i + 1}Ms`] = round(b.openMs)));
  figures.openMaxMs = round(Math.max(...background.map((b) => b.openMs)));
  figures.firstPageDuringPassMs = round(median(background.map((b) => b.firstPageMs)));
  figures.reconciledMs = round(median(background.map((b) => b.reconciledMs)));
  figures.passMaxBlockMs = round(median(background.map((b) => b.maxBlockMs)));
  const now: number[] = [];
  for (let i = 0; i < opens; i++) {
    const { ms, value } = time(() => GalleryStore.open(dataDir));
    now.push(ms);
    value.close();
  }
  figures.openWithReconcileMs = round(median(now));
  const pass = passSteps(dataDir);
  figures.passSteps = pass.steps;
  figures.passCpuMs = round(pass.cpuMs);
  figures.longestStepCpuMs = round(pass.longestStepCpuMs);
  figures.longestStepMs = round(pass.longestStepMs);

  const store = GalleryStore.open(dataDir);
  try {
    const rows = store.list({ limit: 1 }).total;
    const runs = 9;
    figures.firstPageMs = round(timeMedian(runs, () => store.list({ offset: 0, limit: 60 })));
    const search = listTiming(store, { search: COMMON_WORD });
    figures.searchCommonWordMs = round(search.ms);
    figures.searchCommonWordMatches = search.total;
    const filtered = listTiming(store, { solver: 'stsp4', modelId: MODELS[1] });
    figures.filteredPageMs = round(filtered.ms);
    figures.filteredMatches = filtered.total;
    figures.prefixSearchMs = round(listTiming(store, { search: 'lighthouse dus' }).ms);
    const model = listTiming(store, { search: MODEL_WORD });
    figures.searchModelMs = round(model.ms);
    figures.searchModelMatches = model.total;
    const modelAndWord = listTiming(store, { search: `${MODEL_WORD} ${COMMON_WORD}` });
    figures.searchModelAndWordMs = round(modelAndWord.ms);
    figures.searchModelAndWordMatches = modelAndWord.total;
    const bySeed = listTiming(store, { search: String(someSeed) }, 5);
    figures.searchSeedMs = round(bySeed.ms);
    figures.searchSeedMatches = bySeed.total;
    figures.lastPageMs = round(timeMedian(runs, () => store.list({ offset: Math.max(0, rows - 60), limit: 60 })));
    figures.getMs = round(timeMedian(runs, () => store.get(Math.max(1, rows >> 1))));
  } finally {
    store.close();
  }

  return figures;
}
