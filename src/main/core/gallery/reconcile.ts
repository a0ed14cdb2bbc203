/**
 * Making the gallery's files and rows agree, losing nothing: a file without a row (older than
 * the grace period) moves to recovered/; a row whose image is gone is marked missing (and
 * unmarked if it comes back); a lost thumbnail is made again from the image.
 */
import { mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../io/files';
import { decodePng } from '../io/png';
import { encodeThumbnail } from '../io/thumbnail';
import type { Database } from './db';
import { FILE_NAME_RE, type GalleryDirs, listFiles, uniquePath } from './layout';
import type { Statements } from './sql';
import type { ReconcileReport } from './types';

export interface ReconcileContext {
  db: Database;
  s: Statements;
  dirs: GalleryDirs;
  now: () => Date;
  /** Files younger than this are left alone: another process may be about to insert their row. */
  graceMs: number;
}

interface Stray {
  dir: string;
  name: string;
  target: string;
}

/**
 * The comparison runs in SQL, against temp tables of the folder listings and over a covering
 * index (reading 100k rows into JS objects took ~0.4 s; this takes tens of ms). The write lock
 * is taken before the folders are listed: add() writes files before its row, so no row can
 * appear whose files the listing missed. Files are moved after the commit; one another process
 * has just written is younger than the grace period.
 */
export function reconcileFiles(ctx: ReconcileContext): ReconcileReport {
  const { db, s, dirs } = ctx;
  const found = db.transaction(() => {
    const images = listFiles(dirs.imagesDir);
    const thumbnails = listFiles(dirs.thumbnailsDir);
    // Files whose names this store never makes (temp files of a crashed write, strays) are
    // orphans whatever the rows say.
    const strays: Stray[] = [
      ...images.filter((n) => !FILE_NAME_RE.test(n)).map((name) => ({ dir: dirs.imagesDir, name, target: dirs.recoveredDir })),
      ...thumbnails.filter((n) => !FILE_NAME_RE.test(n)).map((name) => ({ dir: dirs.thumbnailsDir, name, target: path.join(dirs.recoveredDir, 'thumbnails') })),
    ];
    s.clearListings.run();
    s.listImages.run(JSON.stringify(images.filter((n) => FILE_NAME_RE.test(n))));
    s.listThumbnails.run(JSON.stringify(thumbnails.filter((n) => FILE_NAME_RE.test(n))));
    s.markMissing.run(ctx.now().toISOString());
    s.unmarkFound.run();
    return {
      missing: (s.missingIds.all() as number[]).sort((a, b) => a - b),
      orphanImages: s.orphanImages.all() as string[],
      orphanThumbnails: s.orphanThumbnails.all() as string[],
      noThumbnail: s.noThumbnail.all() as { id: number; image_file: string }[],
      strays,
    };
  }).immediate();
  s.clearListings.run();

  const orphans: Stray[] = [
    ...found.strays,
    ...found.orphanImages.map((name) => ({ dir: dirs.imagesDir, name, target: dirs.recoveredDir })),
    ...found.orphanThumbnails.map((name) => ({ dir: dirs.thumbnailsDir, name, target: path.join(dirs.recoveredDir, 'thumbnails') })),
  ];
  const orphanFiles = orphans.map((o) => recoverOrphan(o, ctx.graceMs)).filter((moved): moved is string => moved !== null);
  const rebuiltThumbnails = found.noThumbnail.filter((r) => rebuildThumbnail(ctx, r.id, r.image_file)).map((r) => r.id);
  return { orphanFiles, missingFiles: found.missing, rebuiltThumbnails };
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

function rebuildThumbnail(ctx: ReconcileContext, id: number, image: string): boolean {
  if (!writeThumbnailOf(path.join(ctx.dirs.imagesDir, image), path.join(ctx.dirs.thumbnailsDir, image))) return false;
  try {
    ctx.s.setThumbnail.run(image, id);
    return true;
  } catch {
    return false;
  }
}
