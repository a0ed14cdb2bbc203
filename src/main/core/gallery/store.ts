/**
 * The gallery: every generation with its settings in SQLite and its image under the data
 * folder. This module is the only writer of the database and of the files under
 * `images/`, `thumbnails/` and `recovered/`, and the one place that decides their names.
 *
 * Data folder layout:
 *   gallery.sqlite (+ -wal, -shm)   rows, tags, full-text index (db.ts)
 *   images/<32 hex>.png             the image, with A1111 `parameters` and `split-studio` chunks
 *   thumbnails/<same name>.png      box-downscaled to at most 256 px
 *   recovered/                      files reconcile found without a row (never deleted)
 *
 * Crash safety: add() writes both files (temp file + rename) before the row is inserted, and
 * removes them if the insert fails; a crash in between leaves only files without a row, which
 * reconcile() (run by open()) moves to recovered/. emptyTrash() deletes a row's files before
 * the row, so a crash there leaves only trashed rows without files, which reconcile marks
 * missing. A row is never dropped because its file is gone, and a file is never deleted
 * because its row is gone.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Statement } from 'better-sqlite3';
import { z } from 'zod';
import { MAX_TAGS, MAX_TAG_LENGTH, settingsSchema, type CostReport, type GenerationRecord, type GenerationSummary, type Settings } from '../../../shared/contract';
import { solverInfo } from '../../../shared/solvers';
import { writeFileAtomic } from '../io/files';
import { decodePng, encodePng } from '../io/png';
import { DatabaseDamagedError, isDamage, openDatabase, type Database } from './db';
import { pngModelRef } from './importPng';
import { STUDIO_KEYWORD, pngTextOptions } from './pngMetadata';
import { readPngText } from '../io/png';

/** What made an image besides its settings: enough to tell why a re-run might differ. */
export interface Fingerprint {
  engineVersion: string;
  onnxruntimeVersion: string;
  /** The execution provider that ran the model (e.g. "cpu", "cuda"). */
  provider: string;
  /** Model file (path inside the model folder) -> content hash. */
  modelHashes: Record<string, string>;
  /** The noise generator and its implementation details (seed -> initial noise). */
  noiseGenerator: string;
}

export const fingerprintSchema: z.ZodType<Fingerprint> = z
  .object({
    engineVersion: z.string(),
    onnxruntimeVersion: z.string(),
    provider: z.string(),
    modelHashes: z.record(z.string(), z.string()),
    noiseGenerator: z.string(),
  })
  .strict();

const costSchema: z.ZodType<CostReport> = z
  .object({
    nfe: z.number().int().min(0),
    networkRows: z.number().int().min(0),
    guidanceEvaluations: z.number().int().min(0),
    classifierCalls: z.number().int().min(0),
  })
  .strict();

const warningsSchema = z.array(z.string());

export interface RgbaPixels {
  width: number;
  height: number;
  /** 8-bit RGBA, row-major. */
  data: Uint8Array;
}

export interface NewGeneration {
  settings: Settings;
  modelId: string;
  modelName: string;
  modelHash: string;
  provider: string;
  cost: CostReport;
  durationMs: number;
  warnings: string[];
  parentId: number | null;
  fingerprint: Fingerprint;
  image: RgbaPixels;
}

export interface ListQuery {
  /** Words to find in the prompt, negative prompt or tags; the last one may be a prefix. */
  search?: string;
  offset?: number;
  /** 1 to 1000; default 60. */
  limit?: number;
  modelId?: string;
  solver?: string;
  task?: string;
  favourite?: boolean;
  /** created_at >= from (ISO 8601 or Date). */
  from?: string | Date;
  /** created_at < to (ISO 8601 or Date). */
  to?: string | Date;
  /** Trashed generations too. */
  includeDeleted?: boolean;
  /** Only trashed generations (the trash view). */
  onlyDeleted?: boolean;
}

export interface ListResult {
  items: GenerationSummary[];
  total: number;
}

/** What the contract's GenerationRecord does not carry. */
export interface GenerationMeta {
  id: number;
  favourite: boolean;
  tags: string[];
  deletedAt: string | null;
  /** Reconcile found the image file gone. */
  missing: boolean;
  modelHash: string;
  solverOrder: number;
  nfe: number;
  fingerprint: Fingerprint;
}

export interface ReconcileReport {
  /** Files that had no row, where they are now (under recovered/). */
  orphanFiles: string[];
  /** Ids of rows whose image file is gone (marked missing, kept). */
  missingFiles: number[];
  /** Ids whose thumbnail was gone and has been made again from the image. */
  rebuiltThumbnails: number[];
}

export interface GalleryOptions {
  /**
   * Files younger than this are not treated as orphans: another process (the CLI beside the
   * app) may have written them and be about to insert their row. Default 60 s.
   */
  orphanGraceMs?: number;
  /** The clock for created_at and deleted_at (tests). */
  now?: () => Date;
  /** Test hooks: simulate a crash at a point inside add(). */
  hooks?: { afterFilesWritten?: (files: { image: string; thumbnail: string }) => void };
}

export interface RecoverOptions {
  /** The model folder for a model name (and short hash) read from a PNG; default: the name itself. */
  modelIdFor?: (name: string, hash: string | null) => string | null;
  now?: () => Date;
}

export interface RecoverReport {
  /** Where the untrusted database files are now (renamed, never deleted). */
  movedAside: string[];
  /** Ids of the rebuilt rows, oldest image first. */
  recovered: number[];
  /** Images left as they were, with why. */
  skipped: { file: string; reason: string }[];
}

export const RECOVERED_WARNING = 'recovered from the image\'s own metadata by `gallery recover`: cost, duration, provider, engine fingerprint, tags and favourite were not recorded there';

export class GalleryError extends Error {
  constructor(
    readonly code: 'not-found' | 'invalid',
    message: string,
  ) {
    super(message);
    this.name = 'GalleryError';
  }
}

export const THUMBNAIL_SIDE = 256;
export const DATABASE_FILE = 'gallery.sqlite';
const FILE_NAME_RE = /^[0-9a-f]{32}\.png$/;
const MAX_LIMIT = 1000;

interface GenerationRow {
  id: number;
  created_at: string;
  model_id: string;
  model_name: string;
  model_hash: string;
  task: string;
  solver: string;
  solver_order: number;
  steps: number;
  nfe: number;
  guidance: number;
  classifier_scale: number;
  seed: number;
  width: number;
  height: number;
  spacing: string;
  duration_ms: number;
  provider: string;
  prompt: string;
  negative_prompt: string;
  settings_json: string;
  cost_json: string;
  warnings_json: string;
  fingerprint_json: string;
  parent_id: number | null;
  favourite: number;
  deleted_at: string | null;
  image_file: string | null;
  thumbnail_file: string | null;
  missing_at: string | null;
}

type SummaryRow = Pick<GenerationRow, 'id' | 'created_at' | 'model_id' | 'model_name' | 'prompt' | 'solver' | 'steps' | 'seed' | 'width' | 'height' | 'parent_id'>;
type FileRow = Pick<GenerationRow, 'id' | 'image_file' | 'thumbnail_file' | 'missing_at'>;

const SUMMARY_COLUMNS = 'id, created_at, model_id, model_name, prompt, solver, steps, seed, width, height, parent_id';

const INSERT_SQL = `
INSERT INTO generations (created_at, model_id, model_name, model_hash, task, solver, solver_order, steps, nfe,
  guidance, classifier_scale, seed, width, height, spacing, duration_ms, provider, prompt, negative_prompt,
  settings_json, cost_json, warnings_json, fingerprint_json, parent_id, image_file, thumbnail_file)
VALUES (@created_at, @model_id, @model_name, @model_hash, @task, @solver, @solver_order, @steps, @nfe,
  @guidance, @classifier_scale, @seed, @width, @height, @spacing, @duration_ms, @provider, @prompt, @negative_prompt,
  @settings_json, @cost_json, @warnings_json, @fingerprint_json, @parent_id, @image_file, @thumbnail_file)`;

export type InsertParams = Omit<GenerationRow, 'id' | 'favourite' | 'deleted_at' | 'missing_at'>;

function toSummary(r: SummaryRow): GenerationSummary {
  return {
    id: r.id,
    createdAt: r.created_at,
    modelId: r.model_id,
    modelName: r.model_name,
    prompt: r.prompt,
    solver: r.solver,
    steps: r.steps,
    seed: r.seed,
    width: r.width,
    height: r.height,
    parentId: r.parent_id,
  };
}

function parseStored<T>(schema: z.ZodType<T>, json: string, what: string, id: number): T {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new Error(`generation ${id}: stored ${what} is not JSON`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new Error(`generation ${id}: stored ${what} is invalid: ${issues(parsed.error)}`);
  return parsed.data;
}

function issues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : 'value'}: ${i.message}`)
    .join('; ');
}

function checked<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new GalleryError('invalid', `${what} ${issues(parsed.error)}`);
  return parsed.data;
}

/**
 * An FTS5 MATCH expression for user text that no input can break: whitespace-separated terms,
 * each a quoted phrase (so operators, column filters, `*`, `^`, parentheses and quotes are
 * only text), ANDed, the last one a prefix. Terms without a letter or digit would be empty
 * phrases and are dropped; null when nothing is left (no text filter).
 */
export function ftsQuery(search: string): string | null {
  const terms = search.split(/\s+/).filter((t) => /[\p{L}\p{N}\p{Co}]/u.test(t));
  if (terms.length === 0) return null;
  return terms.map((t, i) => `"${t.replace(/"/g, '""')}"${i === terms.length - 1 ? '*' : ''}`).join(' ');
}

/** For each output pixel of a resize from `src` to `dst`, the source pixels it covers and how much. */
function boxSpans(src: number, dst: number): { first: Int32Array; weights: Float64Array[] } {
  const first = new Int32Array(dst);
  const weights: Float64Array[] = [];
  const step = src / dst;
  for (let i = 0; i < dst; i++) {
    const lo = i * step;
    const hi = Math.min(src, (i + 1) * step);
    const j0 = Math.floor(lo);
    const j1 = Math.ceil(hi);
    const w = new Float64Array(j1 - j0);
    for (let j = j0; j < j1; j++) w[j - j0] = (Math.min(hi, j + 1) - Math.max(lo, j)) / step;
    first[i] = j0;
    weights.push(w);
  }
  return { first, weights };
}

/**
 * Area-average ("box") downscale so that neither side exceeds `maxSide`, keeping the aspect
 * ratio; colours are averaged weighted by alpha (premultiplied), so transparent pixels do not
 * darken the edges. An image that already fits is returned as is.
 */
export function downscaleBox(image: RgbaPixels, maxSide = THUMBNAIL_SIDE): RgbaPixels {
  const { width: w, height: h, data } = image;
  if (w <= maxSide && h <= maxSide) return image;
  const scale = maxSide / Math.max(w, h);
  const tw = Math.min(maxSide, Math.max(1, Math.round(w * scale)));
  const th = Math.min(maxSide, Math.max(1, Math.round(h * scale)));
  const xs = boxSpans(w, tw);
  const ys = boxSpans(h, th);
  // Horizontal pass into premultiplied floats (r*a, g*a, b*a, a), one row of source at a time.
  const mid = new Float64Array(tw * h * 4);
  for (let y = 0; y < h; y++) {
    const row = y * w * 4;
    for (let x = 0; x < tw; x++) {
      const wts = xs.weights[x];
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let k = 0, p = row + xs.first[x] * 4; k < wts.length; k++, p += 4) {
        const wa = wts[k] * data[p + 3];
        r += wa * data[p];
        g += wa * data[p + 1];
        b += wa * data[p + 2];
        a += wa;
      }
      const o = (y * tw + x) * 4;
      mid[o] = r;
      mid[o + 1] = g;
      mid[o + 2] = b;
      mid[o + 3] = a;
    }
  }
  const out = new Uint8Array(tw * th * 4);
  for (let y = 0; y < th; y++) {
    const wts = ys.weights[y];
    for (let x = 0; x < tw; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let k = 0, p = (ys.first[y] * tw + x) * 4; k < wts.length; k++, p += tw * 4) {
        r += wts[k] * mid[p];
        g += wts[k] * mid[p + 1];
        b += wts[k] * mid[p + 2];
        a += wts[k] * mid[p + 3];
      }
      const o = (y * tw + x) * 4;
      if (a > 0) {
        out[o] = Math.min(255, Math.round(r / a));
        out[o + 1] = Math.min(255, Math.round(g / a));
        out[o + 2] = Math.min(255, Math.round(b / a));
      }
      out[o + 3] = Math.min(255, Math.round(a));
    }
  }
  return { width: tw, height: th, data: out };
}

/** What differs between two fingerprints, one line each; empty when a re-run should match. */
export function fingerprintDiff(a: Fingerprint, b: Fingerprint): string[] {
  const out: string[] = [];
  const scalar = (label: string, x: string, y: string) => {
    if (x !== y) out.push(`${label}: ${x || '(none)'} → ${y || '(none)'}`);
  };
  scalar('engine version', a.engineVersion, b.engineVersion);
  scalar('onnxruntime version', a.onnxruntimeVersion, b.onnxruntimeVersion);
  scalar('provider', a.provider, b.provider);
  const short = (h: string) => (h.length > 12 ? `${h.slice(0, 12)}…` : h);
  const files = [...new Set([...Object.keys(a.modelHashes), ...Object.keys(b.modelHashes)])].sort();
  for (const file of files) {
    const x = Object.hasOwn(a.modelHashes, file) ? a.modelHashes[file] : undefined;
    const y = Object.hasOwn(b.modelHashes, file) ? b.modelHashes[file] : undefined;
    if (x === y) continue;
    if (x === undefined) out.push(`model file ${file}: added`);
    else if (y === undefined) out.push(`model file ${file}: removed`);
    else out.push(`model file ${file}: hash ${short(x)} → ${short(y)}`);
  }
  scalar('noise generator', a.noiseGenerator, b.noiseGenerator);
  return out;
}

function isoDate(value: string | Date, what: string): string {
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) throw new GalleryError('invalid', `${what} is not a date: ${String(value)}`);
  return d.toISOString();
}

function uniquePath(dir: string, name: string): string {
  let target = path.join(dir, name);
  for (let n = 1; existsSync(target); n++) {
    const ext = path.extname(name);
    target = path.join(dir, `${path.basename(name, ext)}-${n}${ext}`);
  }
  return target;
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => e.name);
}

export class GalleryStore {
  readonly imagesDir: string;
  readonly thumbnailsDir: string;
  readonly recoveredDir: string;
  /** The report of the reconcile run by open(). */
  readonly openReport: ReconcileReport;
  private readonly now: () => Date;
  private readonly graceMs: number;
  private readonly hooks: NonNullable<GalleryOptions['hooks']>;
  private readonly listStatements = new Map<string, { page: Statement; count: Statement }>();
  private readonly s: ReturnType<typeof prepareStatements>;

  private constructor(
    readonly dataDir: string,
    private readonly db: Database,
    options: GalleryOptions,
  ) {
    this.imagesDir = path.join(dataDir, 'images');
    this.thumbnailsDir = path.join(dataDir, 'thumbnails');
    this.recoveredDir = path.join(dataDir, 'recovered');
    this.now = options.now ?? (() => new Date());
    this.graceMs = options.orphanGraceMs ?? 60_000;
    this.hooks = options.hooks ?? {};
    this.s = prepareStatements(db);
    this.openReport = this.reconcile();
  }

  /**
   * Opens (creating) the gallery in `dataDir` and reconciles files with rows. A database that
   * cannot be trusted is refused with DatabaseDamagedError before anything is written or
   * moved: one that is not a database or is damaged, and one that is missing or empty (no
   * schema) while images/ still holds this store's images. Creating an empty gallery there
   * would hide the lost history, and reconcile would then move every image to recovered/.
   */
  static open(dataDir: string, options: GalleryOptions = {}): GalleryStore {
    const dir = path.resolve(dataDir);
    for (const sub of ['images', 'thumbnails', 'recovered']) mkdirSync(path.join(dir, sub), { recursive: true });
    const file = path.join(dir, DATABASE_FILE);
    const images = () => listFiles(path.join(dir, 'images')).filter((n) => FILE_NAME_RE.test(n)).length;
    const orphaned = (what: string) => {
      const count = images();
      if (count > 0) throw new DatabaseDamagedError(file, `${what}, but ${path.join(dir, 'images')} holds ${count} of its images`);
    };
    // Checked before opening: SQLite would create the missing file.
    if (!existsSync(file)) orphaned('is missing');
    const db = openDatabase(file, { beforeCreate: () => orphaned('is empty (it has no tables)') });
    try {
      return new GalleryStore(dir, db, options);
    } catch (error) {
      db.close();
      // Damage deeper in the file shows up on the first reads (reconcile's).
      if (isDamage(error)) throw new DatabaseDamagedError(file, `is damaged: ${(error as Error).message}`);
      throw error;
    }
  }

  /**
   * Rebuilds a gallery whose database cannot be trusted from the images' own metadata (the
   * `split-studio` settings chunk every gallery PNG carries). The database file (with its -wal
   * and -shm) is first renamed aside, never deleted; a fresh one is created; then every PNG in
   * images/, and every PNG with settings that an earlier reconcile moved to recovered/ (moved
   * back into images/), gets a row, oldest file first. What the PNG does not carry (cost,
   * duration, provider, engine fingerprint, tags, favourites, trash) is recorded as unknown,
   * with a warning on the row. Files without readable settings stay where they are.
   * Refuses (GalleryError 'invalid') when the database opens fine and has rows: nothing to recover.
   */
  static recover(dataDir: string, options: RecoverOptions = {}): RecoverReport {
    const dir = path.resolve(dataDir);
    const file = path.join(dir, DATABASE_FILE);
    let healthy: GalleryStore | undefined;
    try {
      healthy = GalleryStore.open(dir, { orphanGraceMs: Number.POSITIVE_INFINITY });
    } catch (error) {
      if (!(error instanceof DatabaseDamagedError)) throw error;
    }
    if (healthy) {
      // A database that opens and has rows is trusted: rebuilding would lose what only it
      // records (tags, favourites, trash, costs). One without any row may be what an older
      // build left after replacing an emptied file (its images then went to recovered/).
      const rows = healthy.list({ includeDeleted: true, limit: 1 }).total;
      healthy.close();
      if (rows > 0) throw new GalleryError('invalid', `gallery database ${file} opens fine and has ${rows} generations; there is nothing to recover`);
    }
    const now = options.now ?? (() => new Date());
    const stamp = now().toISOString().replace(/[:.]/g, '-');
    const movedAside: string[] = [];
    for (const suffix of ['', '-wal', '-shm']) {
      if (!existsSync(file + suffix)) continue;
      const target = uniquePath(dir, `gallery.damaged-${stamp}.sqlite${suffix}`);
      renameSync(file + suffix, target);
      movedAside.push(target);
    }
    const imagesDir = path.join(dir, 'images');
    const thumbnailsDir = path.join(dir, 'thumbnails');
    const recoveredDir = path.join(dir, 'recovered');
    const candidates: { file: string; name: string | null; mtimeMs: number }[] = [];
    for (const name of listFiles(imagesDir)) if (FILE_NAME_RE.test(name)) candidates.push({ file: path.join(imagesDir, name), name, mtimeMs: statSync(path.join(imagesDir, name)).mtimeMs });
    for (const name of listFiles(recoveredDir)) if (name.endsWith('.png')) candidates.push({ file: path.join(recoveredDir, name), name: null, mtimeMs: statSync(path.join(recoveredDir, name)).mtimeMs });
    candidates.sort((a, b) => a.mtimeMs - b.mtimeMs);

    const db = openDatabase(file);
    const recovered: number[] = [];
    const skipped: { file: string; reason: string }[] = [];
    try {
      const insert = db.prepare<InsertParams>(INSERT_SQL);
      for (const candidate of candidates) {
        let settings: Settings;
        let bytes: Buffer;
        let size: { width: number; height: number };
        try {
          bytes = readFileSync(candidate.file);
          const own = readPngText(bytes)[STUDIO_KEYWORD];
          if (own === undefined) throw new Error(`no "${STUDIO_KEYWORD}" settings chunk`);
          const parsed = settingsSchema.safeParse(JSON.parse(own));
          if (!parsed.success) throw new Error(`invalid settings: ${parsed.error.issues[0].message}`);
          settings = parsed.data;
          size = decodePng(bytes);
        } catch (error) {
          // Left where it is: a file from elsewhere, or one this store cannot read.
          if (candidate.name !== null) skipped.push({ file: candidate.file, reason: (error as Error).message.split('\n')[0] });
          continue;
        }
        const ref = pngModelRef(bytes);
        const modelName = ref.name ?? 'unknown model';
        let name = candidate.name;
        if (name === null) {
          name = `${randomBytes(16).toString('hex')}.png`;
          renameSync(candidate.file, path.join(imagesDir, name));
        }
        let thumbnail: string | null = name;
        if (!existsSync(path.join(thumbnailsDir, name))) {
          try {
            writeFileAtomic(path.join(thumbnailsDir, name), encodePng({ ...downscaleBox(decodePng(bytes)), channels: 4 }));
          } catch {
            thumbnail = null;
          }
        }
        const id = Number(
          insert.run({
            created_at: new Date(candidate.mtimeMs).toISOString(),
            model_id: options.modelIdFor?.(modelName, ref.hash) ?? modelName,
            model_name: modelName,
            model_hash: ref.hash ?? '',
            task: settings.task,
            solver: settings.solver,
            solver_order: solverInfo(settings.solver).order,
            steps: settings.steps,
            nfe: 0,
            guidance: settings.guidance,
            classifier_scale: settings.classifierScale,
            seed: settings.seed,
            width: size.width,
            height: size.height,
            spacing: typeof settings.spacing === 'string' ? settings.spacing : JSON.stringify(settings.spacing),
            duration_ms: 0,
            provider: 'unknown',
            prompt: settings.prompt,
            negative_prompt: settings.negativePrompt,
            settings_json: JSON.stringify(settings),
            cost_json: JSON.stringify({ nfe: 0, networkRows: 0, guidanceEvaluations: 0, classifierCalls: 0 }),
            warnings_json: JSON.stringify([RECOVERED_WARNING]),
            fingerprint_json: JSON.stringify({ engineVersion: 'unknown', onnxruntimeVersion: 'unknown', provider: 'unknown', modelHashes: {}, noiseGenerator: 'unknown' }),
            parent_id: null,
            image_file: name,
            thumbnail_file: thumbnail,
          }).lastInsertRowid,
        );
        recovered.push(id);
      }
    } finally {
      db.close();
    }
    return { movedAside, recovered, skipped };
  }

  close(): void {
    if (!this.db.open) return;
    try {
      this.db.pragma('optimize'); // refreshes planner statistics where they have gone stale
    } catch {
      // only an optimisation; never a reason to keep the database open
    }
    this.db.close();
  }

  /**
   * Saves a finished generation: validates it, writes the PNG (with its metadata chunks) and
   * the thumbnail, then inserts the row. If anything fails after the files were written, they
   * are removed before the error is rethrown.
   */
  add(gen: NewGeneration): GenerationRecord {
    const settings = checked(settingsSchema, gen.settings, 'settings:');
    const cost = checked(costSchema, gen.cost, 'cost:');
    const fingerprint = checked(fingerprintSchema, gen.fingerprint, 'fingerprint:');
    const warnings = checked(warningsSchema, gen.warnings, 'warnings:');
    for (const key of ['modelId', 'modelName', 'modelHash', 'provider'] as const) {
      if (typeof gen[key] !== 'string') throw new GalleryError('invalid', `${key} must be a string`);
    }
    if (!gen.modelId) throw new GalleryError('invalid', 'modelId must not be empty');
    if (!Number.isFinite(gen.durationMs) || gen.durationMs < 0) throw new GalleryError('invalid', `durationMs must be a finite number >= 0, got ${gen.durationMs}`);
    const parentId = gen.parentId ?? null;
    if (parentId !== null && !this.s.exists.get(parentId)) throw new GalleryError('invalid', `parent generation ${parentId} does not exist`);
    const { image } = gen;
    if (!image || !(image.data instanceof Uint8Array) || image.data.length !== image.width * image.height * 4) {
      throw new GalleryError('invalid', 'image must be 8-bit RGBA: data.length = width * height * 4');
    }

    const png = encodePng({ ...image, channels: 4 }, pngTextOptions(settings, {
      modelHash: gen.modelHash,
      modelName: gen.modelName,
      software: `Split Studio ${fingerprint.engineVersion}`,
    }));
    const thumbnail = encodePng({ ...downscaleBox(image), channels: 4 });
    const name = `${randomBytes(16).toString('hex')}.png`;
    const files = { image: path.join(this.imagesDir, name), thumbnail: path.join(this.thumbnailsDir, name) };
    let id: number;
    try {
      writeFileAtomic(files.image, png);
      writeFileAtomic(files.thumbnail, thumbnail);
      this.hooks.afterFilesWritten?.(files);
      const row: InsertParams = {
        created_at: this.now().toISOString(),
        model_id: gen.modelId,
        model_name: gen.modelName,
        model_hash: gen.modelHash,
        task: settings.task,
        solver: settings.solver,
        solver_order: solverInfo(settings.solver).order,
        steps: settings.steps,
        nfe: cost.nfe,
        guidance: settings.guidance,
        classifier_scale: settings.classifierScale,
        seed: settings.seed,
        width: image.width,
        height: image.height,
        spacing: typeof settings.spacing === 'string' ? settings.spacing : JSON.stringify(settings.spacing),
        duration_ms: gen.durationMs,
        provider: gen.provider,
        prompt: settings.prompt,
        negative_prompt: settings.negativePrompt,
        settings_json: JSON.stringify(settings),
        cost_json: JSON.stringify(cost),
        warnings_json: JSON.stringify(warnings),
        fingerprint_json: JSON.stringify(fingerprint),
        parent_id: parentId,
        image_file: name,
        thumbnail_file: name,
      };
      id = this.db.transaction(() => Number(this.s.insert.run(row).lastInsertRowid)).immediate();
    } catch (error) {
      rmSync(files.image, { force: true });
      rmSync(files.thumbnail, { force: true });
      throw error;
    }
    return this.get(id)!;
  }

  /** A page of generations, newest first, with the total that match. */
  list(query: ListQuery = {}): ListResult {
    const offset = query.offset ?? 0;
    const limit = query.limit ?? 60;
    if (!Number.isInteger(offset) || offset < 0) throw new GalleryError('invalid', `offset must be an integer >= 0, got ${offset}`);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new GalleryError('invalid', `limit must be an integer from 1 to ${MAX_LIMIT}, got ${limit}`);
    const where: string[] = [];
    const params: Record<string, string | number> = {};
    if (query.onlyDeleted) where.push('deleted_at IS NOT NULL');
    else if (!query.includeDeleted) where.push('deleted_at IS NULL');
    for (const [key, column] of [['modelId', 'model_id'], ['solver', 'solver'], ['task', 'task']] as const) {
      const value = query[key];
      if (value === undefined) continue;
      where.push(`${column} = @${key}`);
      params[key] = value;
    }
    if (query.favourite !== undefined) {
      where.push('favourite = @favourite');
      params.favourite = query.favourite ? 1 : 0;
    }
    if (query.from !== undefined) {
      where.push('created_at >= @from');
      params.from = isoDate(query.from, 'from');
    }
    if (query.to !== undefined) {
      where.push('created_at < @to');
      params.to = isoDate(query.to, 'to');
    }
    const match = query.search === undefined ? null : ftsQuery(query.search);
    if (match !== null) {
      where.push('id IN (SELECT rowid FROM generations_fts WHERE generations_fts MATCH @match)');
      params.match = match;
    }
    const { page, count } = this.listStatement(where.length ? `WHERE ${where.join(' AND ')}` : '');
    // One read transaction: the page and the total come from the same snapshot.
    return this.db.transaction(() => ({
      items: (page.all({ ...params, limit, offset }) as SummaryRow[]).map(toSummary),
      total: (count.get(params) as { n: number }).n,
    }))();
  }

  private listStatement(where: string): { page: Statement; count: Statement } {
    let cached = this.listStatements.get(where);
    if (!cached) {
      cached = {
        // The page's ids first (from an index when the filters allow), then only those rows:
        // OFFSET then skips index entries instead of whole rows (a last page of 100k: ~130 ms -> ~5 ms).
        page: this.db.prepare(
          `SELECT ${SUMMARY_COLUMNS} FROM generations WHERE id IN ` +
            `(SELECT id FROM generations ${where} ORDER BY id DESC LIMIT @limit OFFSET @offset) ORDER BY id DESC`,
        ),
        count: this.db.prepare(`SELECT count(*) AS n FROM generations ${where}`),
      };
      this.listStatements.set(where, cached);
    }
    return cached;
  }

  /** The full record (trashed ones too), or null if there is no such generation. */
  get(id: number): GenerationRecord | null {
    const r = this.s.get.get(id) as GenerationRow | undefined;
    if (!r) return null;
    return {
      ...toSummary(r),
      settings: parseStored(settingsSchema, r.settings_json, 'settings', r.id),
      cost: parseStored(costSchema, r.cost_json, 'cost', r.id),
      provider: r.provider,
      durationMs: r.duration_ms,
      warnings: parseStored(warningsSchema, r.warnings_json, 'warnings', r.id),
    };
  }

  /** Favourite, tags, trash and file state, fingerprint: what the contract's record leaves out. */
  meta(id: number): GenerationMeta | null {
    const r = this.s.get.get(id) as GenerationRow | undefined;
    if (!r) return null;
    return {
      id: r.id,
      favourite: r.favourite === 1,
      tags: (this.s.tags.all(id) as { tag: string }[]).map((t) => t.tag),
      deletedAt: r.deleted_at,
      missing: r.missing_at !== null,
      modelHash: r.model_hash,
      solverOrder: r.solver_order,
      nfe: r.nfe,
      fingerprint: parseStored(fingerprintSchema, r.fingerprint_json, 'fingerprint', r.id),
    };
  }

  /** Absolute path of the image, or null if there is no such generation or no file for it. */
  imageFile(id: number): string | null {
    const r = this.s.files.get(id) as FileRow | undefined;
    if (!r || r.missing_at !== null || !r.image_file || !FILE_NAME_RE.test(r.image_file)) return null;
    const file = path.join(this.imagesDir, r.image_file);
    return existsSync(file) ? file : null;
  }

  /** Absolute path of the thumbnail, or null (no such generation, or no file). */
  thumbnailFile(id: number): string | null {
    const r = this.s.files.get(id) as FileRow | undefined;
    if (!r || r.missing_at !== null || !r.thumbnail_file || !FILE_NAME_RE.test(r.thumbnail_file)) return null;
    const file = path.join(this.thumbnailsDir, r.thumbnail_file);
    return existsSync(file) ? file : null;
  }

  setFavourite(id: number, favourite: boolean): void {
    this.mustChange(this.s.setFavourite.run(favourite ? 1 : 0, id).changes, id);
  }

  /** Replaces the tags: trimmed, inner whitespace collapsed, empty ones dropped, duplicates once. */
  setTags(id: number, tags: readonly string[]): string[] {
    const clean = [...new Set(tags.map((t) => String(t).trim().replace(/\s+/g, ' ')).filter((t) => t.length > 0))];
    if (clean.length > MAX_TAGS) throw new GalleryError('invalid', `at most ${MAX_TAGS} tags, got ${clean.length}`);
    const long = clean.find((t) => t.length > MAX_TAG_LENGTH);
    if (long) throw new GalleryError('invalid', `tag "${long.slice(0, 20)}…" is longer than ${MAX_TAG_LENGTH} characters`);
    this.db.transaction(() => {
      if (!this.s.exists.get(id)) throw new GalleryError('not-found', `there is no generation ${id}`);
      this.s.deleteTags.run(id);
      for (const tag of clean) this.s.insertTag.run(id, tag);
    }).immediate();
    return clean.sort();
  }

  /** Moves to the trash (soft delete); trashing a trashed generation changes nothing. */
  trash(id: number): void {
    if (this.s.trash.run(this.now().toISOString(), id).changes === 0) this.mustExist(id);
  }

  restore(id: number): void {
    if (this.s.restore.run(id).changes === 0) this.mustExist(id);
  }

  /**
   * Deletes the trashed generations and their files, under the write lock. Files go first: a
   * crash midway leaves trashed rows without files (reconcile marks them missing), never files
   * without rows. A row whose file cannot be deleted stays in the trash. Returns the deleted ids.
   */
  emptyTrash(): number[] {
    return this.db.transaction(() => {
      const deleted: number[] = [];
      for (const r of this.s.trashed.all() as FileRow[]) {
        try {
          if (r.image_file && FILE_NAME_RE.test(r.image_file)) rmSync(path.join(this.imagesDir, r.image_file), { force: true });
          if (r.thumbnail_file && FILE_NAME_RE.test(r.thumbnail_file)) rmSync(path.join(this.thumbnailsDir, r.thumbnail_file), { force: true });
        } catch {
          continue;
        }
        this.s.delete.run(r.id);
        deleted.push(r.id);
      }
      return deleted;
    }).immediate();
  }

  /** Generations re-run from this one (not trashed), oldest first. */
  children(id: number): GenerationSummary[] {
    return (this.s.children.all(id) as SummaryRow[]).map(toSummary);
  }

  /**
   * Makes the files and the rows agree, losing nothing: a file without a row (older than the
   * grace period) moves to recovered/; a row whose image is gone is marked missing (and
   * unmarked if it comes back); a lost thumbnail is made again from the image.
   *
   * The comparison runs in SQL, against temp tables of the folder listings and over a
   * covering index (reading 100k rows into JS objects took ~0.4 s; this takes tens of ms).
   * The write lock is taken before the folders are listed: add() writes files before its
   * row, so no row can appear whose files the listing missed. Files are moved after the
   * commit; one another process has just written is younger than the grace period.
   */
  reconcile(): ReconcileReport {
    const found = this.db.transaction(() => {
      const strays: { dir: string; name: string; target: string }[] = [];
      const images = listFiles(this.imagesDir);
      const thumbnails = listFiles(this.thumbnailsDir);
      // Files whose names this store never makes (temp files of a crashed write, strays) are
      // orphans whatever the rows say.
      for (const name of images) if (!FILE_NAME_RE.test(name)) strays.push({ dir: this.imagesDir, name, target: this.recoveredDir });
      for (const name of thumbnails) if (!FILE_NAME_RE.test(name)) strays.push({ dir: this.thumbnailsDir, name, target: path.join(this.recoveredDir, 'thumbnails') });
      this.s.clearListings.run();
      this.s.listImages.run(JSON.stringify(images.filter((n) => FILE_NAME_RE.test(n))));
      this.s.listThumbnails.run(JSON.stringify(thumbnails.filter((n) => FILE_NAME_RE.test(n))));
      this.s.markMissing.run(this.now().toISOString());
      this.s.unmarkFound.run();
      return {
        missing: (this.s.missingIds.all() as number[]).sort((a, b) => a - b),
        orphanImages: this.s.orphanImages.all() as string[],
        orphanThumbnails: this.s.orphanThumbnails.all() as string[],
        noThumbnail: this.s.noThumbnail.all() as { id: number; image_file: string }[],
        strays,
      };
    }).immediate();
    this.s.clearListings.run();

    const orphanFiles: string[] = [];
    const recover = (dir: string, name: string, target: string) => {
      const moved = this.recoverOrphan(dir, name, target);
      if (moved) orphanFiles.push(moved);
    };
    for (const { dir, name, target } of found.strays) recover(dir, name, target);
    for (const name of found.orphanImages) recover(this.imagesDir, name, this.recoveredDir);
    for (const name of found.orphanThumbnails) recover(this.thumbnailsDir, name, path.join(this.recoveredDir, 'thumbnails'));
    const rebuiltThumbnails = found.noThumbnail.filter((r) => this.rebuildThumbnail(r.id, r.image_file)).map((r) => r.id);
    return { orphanFiles, missingFiles: found.missing, rebuiltThumbnails };
  }

  /** Moves one unreferenced file to `target` (unless younger than the grace period); its new path, or null. */
  private recoverOrphan(dir: string, name: string, target: string): string | null {
    const from = path.join(dir, name);
    try {
      if (this.graceMs > 0 && statSync(from).mtimeMs > Date.now() - this.graceMs) return null;
      mkdirSync(target, { recursive: true });
      const to = uniquePath(target, name);
      renameSync(from, to);
      return to;
    } catch {
      return null; // gone meanwhile, or cannot be moved now: it stays and is tried next time
    }
  }

  private rebuildThumbnail(id: number, image: string): boolean {
    try {
      const decoded = decodePng(readFileSync(path.join(this.imagesDir, image)));
      writeFileAtomic(path.join(this.thumbnailsDir, image), encodePng({ ...downscaleBox(decoded), channels: 4 }));
      this.s.setThumbnail.run(image, id);
      return true;
    } catch {
      return false; // an unreadable image: the row keeps its (missing) thumbnail
    }
  }

  private mustExist(id: number): void {
    if (!this.s.exists.get(id)) throw new GalleryError('not-found', `there is no generation ${id}`);
  }

  private mustChange(changes: number, id: number): void {
    if (changes === 0) throw new GalleryError('not-found', `there is no generation ${id}`);
  }
}

function prepareStatements(db: Database) {
  return {
    insert: db.prepare<InsertParams>(INSERT_SQL),
    exists: db.prepare<[number]>('SELECT 1 FROM generations WHERE id = ?').pluck(),
    get: db.prepare<[number]>('SELECT * FROM generations WHERE id = ?'),
    files: db.prepare<[number]>('SELECT id, image_file, thumbnail_file, missing_at FROM generations WHERE id = ?'),
    tags: db.prepare<[number]>('SELECT tag FROM tags WHERE generation_id = ? ORDER BY tag'),
    deleteTags: db.prepare<[number]>('DELETE FROM tags WHERE generation_id = ?'),
    insertTag: db.prepare<[number, string]>('INSERT INTO tags (generation_id, tag) VALUES (?, ?)'),
    setFavourite: db.prepare<[number, number]>('UPDATE generations SET favourite = ? WHERE id = ?'),
    trash: db.prepare<[string, number]>('UPDATE generations SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL'),
    restore: db.prepare<[number]>('UPDATE generations SET deleted_at = NULL WHERE id = ? AND deleted_at IS NOT NULL'),
    trashed: db.prepare<[]>('SELECT id, image_file, thumbnail_file, missing_at FROM generations WHERE deleted_at IS NOT NULL ORDER BY id'),
    delete: db.prepare<[number]>('DELETE FROM generations WHERE id = ?'),
    children: db.prepare<[number]>(`SELECT ${SUMMARY_COLUMNS} FROM generations WHERE parent_id = ? AND deleted_at IS NULL ORDER BY id`),
    setThumbnail: db.prepare<[string, number]>('UPDATE generations SET thumbnail_file = ? WHERE id = ?'),
    ...reconcileStatements(db),
  };
}

/**
 * reconcile()'s statements: the folder listings (valid names only) go into two temp tables,
 * and everything else is set arithmetic in SQL over idx_generations_files.
 */
function reconcileStatements(db: Database) {
  db.exec(`
    CREATE TEMP TABLE IF NOT EXISTS listed_images (name TEXT PRIMARY KEY) WITHOUT ROWID;
    CREATE TEMP TABLE IF NOT EXISTS listed_thumbnails (name TEXT PRIMARY KEY) WITHOUT ROWID;`);
  const clearImages = db.prepare<[]>('DELETE FROM temp.listed_images');
  const clearThumbnails = db.prepare<[]>('DELETE FROM temp.listed_thumbnails');
  return {
    clearListings: {
      run(): void {
        clearImages.run();
        clearThumbnails.run();
      },
    },
    listImages: db.prepare<[string]>('INSERT OR IGNORE INTO temp.listed_images (name) SELECT value FROM json_each(?)'),
    listThumbnails: db.prepare<[string]>('INSERT OR IGNORE INTO temp.listed_thumbnails (name) SELECT value FROM json_each(?)'),
    markMissing: db.prepare<[string]>(`
      UPDATE generations SET missing_at = ?
      WHERE missing_at IS NULL AND (image_file IS NULL OR image_file NOT IN (SELECT name FROM temp.listed_images))`),
    unmarkFound: db.prepare<[]>(`
      UPDATE generations SET missing_at = NULL
      WHERE missing_at IS NOT NULL AND image_file IN (SELECT name FROM temp.listed_images)`),
    missingIds: db.prepare<[]>('SELECT id FROM generations WHERE missing_at IS NOT NULL').pluck(),
    orphanImages: db.prepare<[]>(`
      SELECT name FROM temp.listed_images
      WHERE name NOT IN (SELECT image_file FROM generations WHERE image_file IS NOT NULL)`).pluck(),
    orphanThumbnails: db.prepare<[]>(`
      SELECT name FROM temp.listed_thumbnails
      WHERE name NOT IN (SELECT thumbnail_file FROM generations WHERE thumbnail_file IS NOT NULL)`).pluck(),
    noThumbnail: db.prepare<[]>(`
      SELECT id, image_file FROM generations
      WHERE missing_at IS NULL AND (thumbnail_file IS NULL OR thumbnail_file NOT IN (SELECT name FROM temp.listed_thumbnails))`),
  };
}
