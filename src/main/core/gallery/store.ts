/**
 * The gallery: every generation with its settings in SQLite and its image under the data
 * folder (layout.ts). This class is the only writer of the database and of the files under
 * `images/`, `thumbnails/` and `recovered/`, and the one place that decides their names.
 *
 * Crash safety: add() writes both files (temp file + rename) before the row is inserted, and
 * removes them if the insert fails; a crash in between leaves only files without a row, which
 * reconcile moves to recovered/ (run by open(): at once, or in slices after it returns, see
 * GalleryOptions.reconcile; reconcile.ts says why a pass is right while rows are being added).
 * emptyTrash() deletes a row's files before the row, so a crash there leaves only trashed rows
 * without files, which reconcile marks missing. A row is never dropped because its file is
 * gone, and a file is never deleted because its row is gone.
 * The inputs each generation was made from are kept for re-runs (inputs.ts, the `inputs` field).
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Statement } from 'better-sqlite3';
import { MAX_TAGS, MAX_TAG_LENGTH, settingsSchema, type GenerationRecord, type GenerationSummary } from '../../../shared/contract';
import { writeFileAtomic } from '../io/files';
import { pngDimensions } from '../io/png';
import { DatabaseDamagedError, isDamage, openDatabase, type Database } from './db';
import { fingerprintSchema } from './fingerprint';
import { encodeGalleryImage } from './galleryImage';
import { type InputToStore, KeptInputs, inputsToStore } from './inputs';
import { DATABASE_FILE, FILE_NAME_RE, galleryDirs, listFiles, newImageName, removeFile } from './layout';
import { reconcileFiles, reconcileInBackground } from './reconcile';
import { rebuildFromImages } from './recover';
import { checked, costSchema, parseStored, warningsSchema } from './schemas';
import { ModelNames, listFilter, pageOf } from './search';
import { type FileRow, type GenerationRow, type Statements, type SummaryRow, generationRow, listStatements, prepareStatements, toSummary } from './sql';
import { type EmptyTrashReport, type EncodedImage, type GalleryOptions, type GenerationMeta, type ListQuery, type ListResult, type NewGeneration, type ReconcileReport, type RecoverOptions, type RecoverReport, GalleryError } from './types';

// What the gallery's users import from here, wherever it is defined.
export { type Fingerprint, fingerprintDiff, fingerprintSchema } from './fingerprint';
export { DATABASE_FILE } from './layout';
export { RECOVERED_WARNING } from './recover';
export { ftsQuery } from './search';
export type { InsertParams } from './sql';
export * from './types';
export { THUMBNAIL_SIDE, downscaleBox } from '../io/thumbnail';

/** The files of a new generation, encoded here from pixels (the CLI) or as the engine process encoded them (the studio). */
function encodedImage(gen: NewGeneration, settings: NewGeneration['settings'], engineVersion: string): EncodedImage {
  const { image } = gen;
  if (image && 'png' in image) {
    if (!(image.png instanceof Uint8Array) || !(image.thumbnail instanceof Uint8Array)) throw new GalleryError('invalid', 'an encoded image needs png and thumbnail bytes');
    const size = pngDimensions(image.png);
    if (!size || size.width !== image.width || size.height !== image.height) throw new GalleryError('invalid', `the image's PNG is not a ${image.width}x${image.height} PNG`);
    return image;
  }
  if (!image || !(image.data instanceof Uint8Array) || image.data.length !== image.width * image.height * 4) {
    throw new GalleryError('invalid', 'image must be 8-bit RGBA: data.length = width * height * 4');
  }
  return encodeGalleryImage(image, settings, { modelHash: gen.modelHash, modelName: gen.modelName, engineVersion });
}

export class GalleryStore {
  readonly imagesDir: string;
  readonly thumbnailsDir: string;
  readonly recoveredDir: string;
  /**
   * The report of the pass open() ran at once (reconcile: 'now'); with 'background', or after
   * a failed pass, `reconciled` (this getter throws rather than give a report that was not made).
   */
  get openReport(): ReconcileReport {
    if (!this.#openReport) throw new Error("this gallery's reconcile runs in the background: await its `reconciled` instead of openReport");
    return this.#openReport;
  }
  /**
   * The report of the pass open() started: resolved at once with reconcile: 'now'; when the
   * last slice is done with 'background'; null if the store was closed first. Rejects when the
   * pass failed (a damaged database: DatabaseDamagedError).
   */
  readonly reconciled: Promise<ReconcileReport | null>;
  #openReport: ReconcileReport | null = null;
  /** Model names for the search box (search.ts). */
  private readonly modelNames: ModelNames;
  private readonly now: () => Date;
  private readonly graceMs: number;
  private readonly hooks: NonNullable<GalleryOptions['hooks']>;
  private readonly listStatements = new Map<string, { page: Statement; count: Statement }>();
  private readonly s: Statements;
  /** The inputs kept with each generation for re-runs: of(id), file(id, kind) (inputs.ts). */
  readonly inputs: KeptInputs;

  private constructor(
    readonly dataDir: string,
    private readonly db: Database,
    options: GalleryOptions,
  ) {
    ({ imagesDir: this.imagesDir, thumbnailsDir: this.thumbnailsDir, recoveredDir: this.recoveredDir } = galleryDirs(dataDir));
    this.now = options.now ?? (() => new Date());
    this.graceMs = options.orphanGraceMs ?? 60_000;
    this.hooks = options.hooks ?? {};
    this.s = prepareStatements(db);
    this.inputs = new KeptInputs(db, path.join(dataDir, 'inputs'));
    this.modelNames = new ModelNames(db);
    if (options.reconcile === 'background') {
      // Then the search's model names, read in the same slices.
      this.reconciled = reconcileInBackground(this.reconcileContext(), { after: this.modelNames.fill(), sliceMs: options.sliceMs, stopped: () => !db.open });
    } else {
      this.#openReport = this.reconcile();
      this.reconciled = Promise.resolve(this.#openReport);
    }
  }

  /**
   * Opens (creating) the gallery in `dataDir` and reconciles files with rows: before it returns
   * (the default), or in the background after (`reconcile: 'background'`, the studio: open then
   * takes a few ms whatever the gallery's size; see `reconciled`). A database that
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
    return rebuildFromImages(dir, options);
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
   * the thumbnail, then inserts the row. Pixels are encoded here; an already encoded image (the
   * studio's engine process makes its files, so that this process encodes nothing) is written
   * as it is. If anything fails after the files were written, they are removed before the
   * error is rethrown.
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
    const image = encodedImage(gen, settings, fingerprint.engineVersion);
    const inputs = inputsToStore(gen.inputs);

    const name = newImageName();
    const files = { image: path.join(this.imagesDir, name), thumbnail: path.join(this.thumbnailsDir, name) };
    const newInputs: InputToStore[] = [];
    let id: number;
    try {
      for (const input of inputs) if (this.inputs.write(input)) newInputs.push(input);
      writeFileAtomic(files.image, image.png);
      writeFileAtomic(files.thumbnail, image.thumbnail);
      this.hooks.afterFilesWritten?.(files);
      const row = generationRow({
        createdAt: this.now().toISOString(),
        settings,
        modelId: gen.modelId,
        modelName: gen.modelName,
        modelHash: gen.modelHash,
        width: image.width,
        height: image.height,
        provider: gen.provider,
        cost,
        durationMs: gen.durationMs,
        warnings,
        fingerprint,
        parentId,
        imageFile: name,
        thumbnailFile: name,
      });
      id = this.db.transaction(() => this.inputs.link(Number(this.s.insert.run(row).lastInsertRowid), inputs)).immediate();
    } catch (error) {
      rmSync(files.image, { force: true });
      rmSync(files.thumbnail, { force: true });
      this.inputs.forget(newInputs);
      throw error;
    }
    return this.get(id)!;
  }

  /** A page of generations, newest first, with the total that match. */
  list(query: ListQuery = {}): ListResult {
    const { offset, limit } = pageOf(query);
    const { where, params } = listFilter(query, this.modelNames);
    const { page, count } = this.listStatement(where);
    // One read transaction: the page and the total come from the same snapshot.
    return this.db.transaction(() => ({
      items: (page.all({ ...params, limit, offset }) as SummaryRow[]).map(toSummary),
      total: (count.get(params) as { n: number }).n,
    }))();
  }

  private listStatement(where: string): { page: Statement; count: Statement } {
    let cached = this.listStatements.get(where);
    if (!cached) {
      cached = listStatements(this.db, where);
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
   * without rows. A row whose file cannot be deleted stays in the trash. Then the inputs that no
   * remaining generation (trashed or not) uses go, file first. Returns the deleted ids and the
   * bytes freed.
   */
  emptyTrash(): EmptyTrashReport {
    return this.db.transaction(() => {
      const deleted: number[] = [];
      let freedBytes = 0;
      for (const r of this.s.trashed.all() as FileRow[]) {
        try {
          if (r.image_file && FILE_NAME_RE.test(r.image_file)) freedBytes += removeFile(path.join(this.imagesDir, r.image_file));
          if (r.thumbnail_file && FILE_NAME_RE.test(r.thumbnail_file)) freedBytes += removeFile(path.join(this.thumbnailsDir, r.thumbnail_file));
        } catch {
          continue;
        }
        this.s.delete.run(r.id);
        deleted.push(r.id);
      }
      freedBytes += this.inputs.deleteUnused();
      return { deleted, freedBytes };
    }).immediate();
  }

  /** Generations re-run from this one (not trashed), oldest first. */
  children(id: number): GenerationSummary[] {
    return (this.s.children.all(id) as SummaryRow[]).map(toSummary);
  }

  /**
   * Makes the files and the rows agree, losing nothing (reconcile.ts): a file without a row
   * (older than the grace period) moves to recovered/; a row whose image is gone is marked
   * missing (and unmarked if it comes back); a lost thumbnail is made again from the image.
   */
  reconcile(): ReconcileReport {
    return reconcileFiles(this.reconcileContext());
  }

  private reconcileContext() {
    return {
      db: this.db,
      dirs: { imagesDir: this.imagesDir, thumbnailsDir: this.thumbnailsDir, recoveredDir: this.recoveredDir },
      now: this.now,
      graceMs: this.graceMs,
    };
  }

  private mustExist(id: number): void {
    if (!this.s.exists.get(id)) throw new GalleryError('not-found', `there is no generation ${id}`);
  }

  private mustChange(changes: number, id: number): void {
    if (changes === 0) throw new GalleryError('not-found', `there is no generation ${id}`);
  }
}
