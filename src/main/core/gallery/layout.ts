/**
 * The data folder's layout, which only the gallery writes:
 *   gallery.sqlite (+ -wal, -shm)   rows, tags, full-text index (db.ts)
 *   images/<32 hex>.png             the image, with A1111 `parameters` and `split-studio` chunks
 *   thumbnails/<same name>.png      box-downscaled to at most 256 px
 *   recovered/                      files reconcile found without a row (never deleted)
 *   inputs/<sha256>.png|.npy        what generations were made from, stored once (inputs.ts); not reconcile's
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';

export const DATABASE_FILE = 'gallery.sqlite';

/** The only names the gallery gives its image and thumbnail files; anything else there is a stray. */
export const FILE_NAME_RE = /^[0-9a-f]{32}\.png$/;

export interface GalleryDirs {
  imagesDir: string;
  thumbnailsDir: string;
  recoveredDir: string;
}

export function galleryDirs(dataDir: string): GalleryDirs {
  return {
    imagesDir: path.join(dataDir, 'images'),
    thumbnailsDir: path.join(dataDir, 'thumbnails'),
    recoveredDir: path.join(dataDir, 'recovered'),
  };
}

/** A fresh image file name (an image and its thumbnail share it). */
export function newImageName(): string {
  return `${randomBytes(16).toString('hex')}.png`;
}

/** `name` in `dir`, or name-1, name-2, ... before its extension if taken: a move never overwrites. */
export function uniquePath(dir: string, name: string): string {
  let target = path.join(dir, name);
  for (let n = 1; existsSync(target); n++) {
    const ext = path.extname(name);
    target = path.join(dir, `${path.basename(name, ext)}-${n}${ext}`);
  }
  return target;
}

/** The regular files directly in `dir`. */
export function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => e.name);
}

/** Deletes a file (gone already is fine); the bytes it held. Throws when it cannot be deleted. */
export function removeFile(file: string): number {
  const size = statSync(file, { throwIfNoEntry: false })?.size ?? 0;
  rmSync(file, { force: true });
  return size;
}
