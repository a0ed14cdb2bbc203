/**
 * Making the gallery's files and rows agree, losing nothing: a file without a row (older than
 * the grace period) moves to recovered/; a row whose image is gone is marked missing (and
 * unmarked if it comes back); a lost thumbnail is made again from the image.
 *
 * One pass is a generator of small steps (a slice of a folder listing, a page of rows, one
 * file move or thumbnail), so that it can run all at once (reconcileFiles: the CLI, tests) or
 * in slices between which the event loop runs (reconcileInSlices: the studio, whose main
 * process must answer while a 100,000-image gallery is compared with its folders).
 *
 * Why it is right without holding the write lock across the pass: writers make files before
 * their row (add() and the CLI beside the app), and AUTOINCREMENT ids only grow. The pass
 * first reads the highest id, then lists the folders, then walks the rows up to that id. Every
 * such row's files existed before the listing began, so a file the listing lacks is really
 * gone; rows added meanwhile are left for the next pass. A listed file is an orphan only if no
 * row, walked or added since, names it, and it is only moved once older than the grace period
 * (a row for it may still be on its way from another process). Steps that change rows re-check
 * their condition in SQL, so an edit between slices (trash, restore, emptyTrash) is never undone.
 */
import { type Dir, mkdirSync, opendirSync, readFileSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { writeFileAtomic } from '../io/files';
import { decodePng } from '../io/png';
import { encodeThumbnail } from '../io/thumbnail';
import { type Database, DatabaseDamagedError, isDamage } from './db';
import { FILE_NAME_RE, type GalleryDirs, uniquePath } from './layout';
import type { ReconcileReport } from './types';

export interface ReconcileContext {
  db: Database;
  dirs: GalleryDirs;
  now: () => Date;
  /** Files younger than this are left alone: another process may be about to insert their row. */
  graceMs: number;
}

/** Rows read per step (~1 ms on a free core: making the JS arrays is most of it). */
const ROWS_PER_STEP = 500;
/** Folder entries read, or listed names compared, per step (~1 ms). */
const ENTRIES_PER_STEP = 1000;

interface Stray {
  dir: string;
  name: string;
  target: string;
}

/** [id, image_file, thumbnail_file, missing_at] */
type FileRowTuple = [number, string | null, string | null, string | null];

function statements(db: Database) {
  return {
    maxId: db.prepare<[]>('SELECT coalesce(max(id), 0) FROM generations').pluck(),
    // By rowid: each page reads a contiguous stretch of the table, and the walk needs no sort.
    page: db.prepare<[number, number]>('SELECT id, image_file, thumbnail_file, missing_at FROM generations WHERE id > ? AND id <= ? ORDER BY id').raw(),
    filesAfter: db.prepare<[number]>('SELECT image_file, thumbnail_file FROM generations WHERE id > ?').raw(),
    markMissing: db.prepare<[string, number]>('UPDATE generations SET missing_at = ? WHERE id = ? AND missing_at IS NULL'),
    unmarkFound: db.prepare<[number]>('UPDATE generations SET missing_at = NULL WHERE id = ? AND missing_at IS NOT NULL'),
    setThumbnail: db.prepare<[string, number]>('UPDATE generations SET thumbnail_file = ? WHERE id = ?'),
  };
}

/** Lists the regular files of `dir` a slice at a time (yielding between slices); the names this store makes, and the rest. */
function* listFolder(dir: string, valid: Set<string>, strays: string[]): Generator<void, void, void> {
  let handle: Dir;
  try {
    handle = opendirSync(dir, { bufferSize: 1024 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    for (let n = 1; ; n++) {
      const entry = handle.readSync();
      if (!entry) return;
      if (entry.isFile()) (FILE_NAME_RE.test(entry.name) ? valid.add(entry.name) : strays.push(entry.name));
      if (n % ENTRIES_PER_STEP === 0) yield;
    }
  } finally {
    handle.closeSync();
  }
}

/** One reconcile pass as small steps; its report when done. */
export function* reconcileSteps(ctx: ReconcileContext): Generator<void, ReconcileReport, void> {
  const { db, dirs } = ctx;
  const s = statements(db);
  const upTo = s.maxId.get() as number;

  const images = new Set<string>();
  const thumbnails = new Set<string>();
  const strayImages: string[] = [];
  const strayThumbnails: string[] = [];
  yield* listFolder(dirs.imagesDir, images, strayImages);
  yield* listFolder(dirs.thumbnailsDir, thumbnails, strayThumbnails);
  // Listed files that some row names (the rest are orphans).
  const namedImages = new Set<string>();
  const namedThumbnails = new Set<string>();
  const name = (image: string | null, thumbnail: string | null) => {
    if (image !== null && images.has(image)) namedImages.add(image);
    if (thumbnail !== null && thumbnails.has(thumbnail)) namedThumbnails.add(thumbnail);
  };

  const missing: number[] = [];
  const noThumbnail: { id: number; image: string }[] = [];
  const stamp = ctx.now().toISOString();
  for (let from = 0; from < upTo; from += ROWS_PER_STEP) {
    const rows = s.page.all(from, Math.min(upTo, from + ROWS_PER_STEP)) as FileRowTuple[];
    const gone: number[] = [];
    const back: number[] = [];
    for (const [id, image, thumbnail, missingAt] of rows) {
      name(image, thumbnail);
      if (image === null || !images.has(image)) {
        if (missingAt === null) gone.push(id);
        else missing.push(id);
        continue;
      }
      if (missingAt !== null) back.push(id);
      if (thumbnail === null || !thumbnails.has(thumbnail)) noThumbnail.push({ id, image });
    }
    // The write lock only for pages that change something (most change nothing).
    if (gone.length > 0 || back.length > 0) {
      db.transaction(() => {
        // Marked unless an edit since the listing (emptyTrash) deleted the row.
        for (const id of gone) if (s.markMissing.run(stamp, id).changes > 0) missing.push(id);
        for (const id of back) s.unmarkFound.run(id);
      }).immediate();
    }
    yield;
  }
  // Rows added during the pass name files too (their own, written before them).
  for (const [image, thumbnail] of s.filesAfter.all(upTo) as [string | null, string | null][]) name(image, thumbnail);

  const orphans: Stray[] = [
    ...strayImages.map((n) => ({ dir: dirs.imagesDir, name: n, target: dirs.recoveredDir })),
    ...strayThumbnails.map((n) => ({ dir: dirs.thumbnailsDir, name: n, target: path.join(dirs.recoveredDir, 'thumbnails') })),
  ];
  for (const [listed, named, dir, target] of [
    [images, namedImages, dirs.imagesDir, dirs.recoveredDir],
    [thumbnails, namedThumbnails, dirs.thumbnailsDir, path.join(dirs.recoveredDir, 'thumbnails')],
  ] as const) {
    let n = 0;
    for (const listedName of listed) {
      if (!named.has(listedName)) orphans.push({ dir, name: listedName, target });
      if (++n % ENTRIES_PER_STEP === 0) yield;
    }
  }
  const orphanFiles: string[] = [];
  for (const orphan of orphans) {
    const moved = recoverOrphan(orphan, ctx.graceMs);
    if (moved !== null) orphanFiles.push(moved);
    yield;
  }
  const rebuiltThumbnails: number[] = [];
  for (const { id, image } of noThumbnail) {
    if (rebuildThumbnail(ctx, s.setThumbnail, id, image)) rebuiltThumbnails.push(id);
    yield;
  }
  return { orphanFiles, missingFiles: missing.sort((a, b) => a - b), rebuiltThumbnails };
}

/** A whole pass at once. */
export function reconcileFiles(ctx: ReconcileContext): ReconcileReport {
  const steps = reconcileSteps(ctx);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

export interface SliceOptions {
  /** How long one slice may run before the event loop gets a turn. */
  sliceMs?: number;
  /** Checked before each slice: true stops the pass (the store was closed); it then resolves null. */
  stopped?: () => boolean;
}

/**
 * Runs `steps` in slices of about `sliceMs`, giving the event loop a turn (setImmediate: I/O
 * and timers first) between them. Resolves with the generator's result, or null if stopped;
 * a step that throws rejects (the generator's finally blocks have run).
 */
export async function runInSlices<T>(steps: Generator<void, T, void>, options: SliceOptions = {}): Promise<T | null> {
  const sliceMs = options.sliceMs ?? 8;
  try {
    for (;;) {
      await nextTurn();
      if (options.stopped?.()) return null;
      const end = performance.now() + sliceMs;
      do {
        const step = steps.next();
        if (step.done) return step.value;
      } while (performance.now() < end);
    }
  } finally {
    steps.return(undefined as T); // closes an open folder handle when stopped midway
  }
}

/**
 * A pass in slices (runInSlices), then `after` (more work for the same slices), until done or
 * `stopped`. Resolves with the pass's report, or null if stopped first; rejects if it failed
 * (DatabaseDamagedError for damage that the first reads found), and a rejection nobody awaits
 * is not an unhandled one: the caller reads it when it wants the report.
 */
export function reconcileInBackground(ctx: ReconcileContext, options: SliceOptions & { after?: Generator<void, void, void> } = {}): Promise<ReconcileReport | null> {
  const pass = async () => {
    try {
      const report = await runInSlices(reconcileSteps(ctx), options);
      if (report !== null && options.after) await runInSlices(options.after, options);
      return report;
    } catch (error) {
      if (isDamage(error)) throw new DatabaseDamagedError(ctx.db.name, `is damaged: ${(error as Error).message}`);
      throw error;
    }
  };
  const promise = pass();
  promise.catch(() => {});
  return promise;
}

/** Moves one unreferenced file to its target folder (unless younger than the grace period); its new path, or null. */
function recoverOrphan({ dir, name, target }: Stray, graceMs: number): string | null {
  const from = path.join(dir, name);
  try {
    if (graceMs > 0 && statSync(from).mtimeMs > Date.now() - graceMs) return null;
    mkdirSync(target, { recursive: true });
    const to = uniquePath(target, name);
    renameSync(from, to);
    return to;
  } catch {
    return null; // gone meanwhile, or cannot be moved now: it stays and is tried next time
  }
}

/** Writes the thumbnail of an image file; false (the row keeps its missing thumbnail) when the image cannot be read. */
function writeThumbnailOf(imageFile: string, thumbnailFile: string): boolean {
  try {
    writeFileAtomic(thumbnailFile, encodeThumbnail(decodePng(readFileSync(imageFile))));
    return true;
  } catch {
    return false;
  }
}

function rebuildThumbnail(ctx: ReconcileContext, setThumbnail: ReturnType<typeof statements>['setThumbnail'], id: number, image: string): boolean {
  if (!writeThumbnailOf(path.join(ctx.dirs.imagesDir, image), path.join(ctx.dirs.thumbnailsDir, image))) return false;
  try {
    setThumbnail.run(image, id);
    return true;
  } catch {
    return false;
  }
}
