/**
 * Rebuilding a gallery database from the images' own metadata (GalleryStore.recover decides
 * when; this does it). The untrusted database files are renamed aside, never deleted.
 */
import { existsSync, readFileSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import { type Settings, settingsSchema } from '../../../shared/contract';
import { writeFileAtomic } from '../io/files';
import { type DecodedPng, decodePng, readPngText } from '../io/png';
import { encodeThumbnail } from '../io/thumbnail';
import { openDatabase } from './db';
import { pngModelRef } from './importPng';
import { DATABASE_FILE, FILE_NAME_RE, galleryDirs, listFiles, newImageName, uniquePath } from './layout';
import { STUDIO_KEYWORD } from './pngMetadata';
import { INSERT_SQL, type InsertParams, generationRow } from './sql';
import type { RecoverOptions, RecoverReport } from './types';

export const RECOVERED_WARNING = 'recovered from the image\'s own metadata by `gallery recover`: cost, duration, provider, engine fingerprint, tags and favourite were not recorded there';

const UNKNOWN_COST = { nfe: 0, networkRows: 0, guidanceEvaluations: 0, classifierCalls: 0 };
const UNKNOWN_FINGERPRINT = { engineVersion: 'unknown', onnxruntimeVersion: 'unknown', provider: 'unknown', modelHashes: {}, noiseGenerator: 'unknown' };

interface Candidate {
  file: string;
  /** Its name in images/, or null for a file in recovered/ (renamed when taken back). */
  name: string | null;
  mtimeMs: number;
}

/** Renames the database and its -wal and -shm files aside; where they are now. */
function moveDatabaseAside(dir: string, stamp: string): string[] {
  const file = path.join(dir, DATABASE_FILE);
  const moved: string[] = [];
  for (const suffix of ['', '-wal', '-shm']) {
    if (!existsSync(file + suffix)) continue;
    const target = uniquePath(dir, `gallery.damaged-${stamp}.sqlite${suffix}`);
    renameSync(file + suffix, target);
    moved.push(target);
  }
  return moved;
}

/** Every image of the store, and every PNG an earlier reconcile moved to recovered/, oldest first. */
function candidates(imagesDir: string, recoveredDir: string): Candidate[] {
  const found: Candidate[] = [];
  for (const name of listFiles(imagesDir)) if (FILE_NAME_RE.test(name)) found.push({ file: path.join(imagesDir, name), name, mtimeMs: statSync(path.join(imagesDir, name)).mtimeMs });
  for (const name of listFiles(recoveredDir)) if (name.endsWith('.png')) found.push({ file: path.join(recoveredDir, name), name: null, mtimeMs: statSync(path.join(recoveredDir, name)).mtimeMs });
  return found.sort((a, b) => a.mtimeMs - b.mtimeMs);
}

/** The settings in a gallery PNG and its pixels; throws, saying why, for anything else. */
function readGalleryPng(bytes: Uint8Array): { settings: Settings; image: DecodedPng } {
  const own = readPngText(bytes)[STUDIO_KEYWORD];
  if (own === undefined) throw new Error(`no "${STUDIO_KEYWORD}" settings chunk`);
  const parsed = settingsSchema.safeParse(JSON.parse(own));
  if (!parsed.success) throw new Error(`invalid settings: ${parsed.error.issues[0].message}`);
  return { settings: parsed.data, image: decodePng(bytes) };
}

/**
 * Moves the database aside, creates a fresh one and gives every readable gallery PNG a row:
 * those in images/ where they are, those in recovered/ moved back into images/. What a PNG
 * does not carry (cost, duration, provider, engine fingerprint, tags, favourites, trash) is
 * recorded as unknown, with RECOVERED_WARNING on the row. Files without readable settings stay.
 */
export function rebuildFromImages(dataDir: string, options: RecoverOptions = {}): RecoverReport {
  const now = options.now ?? (() => new Date());
  const movedAside = moveDatabaseAside(dataDir, now().toISOString().replace(/[:.]/g, '-'));
  const { imagesDir, thumbnailsDir, recoveredDir } = galleryDirs(dataDir);
  const db = openDatabase(path.join(dataDir, DATABASE_FILE));
  const recovered: number[] = [];
  const skipped: { file: string; reason: string }[] = [];
  try {
    const insert = db.prepare<InsertParams>(INSERT_SQL);
    for (const candidate of candidates(imagesDir, recoveredDir)) {
      let bytes: Buffer;
      let read: ReturnType<typeof readGalleryPng>;
      try {
        bytes = readFileSync(candidate.file);
        read = readGalleryPng(bytes);
      } catch (error) {
        // Left where it is: a file from elsewhere, or one this store cannot read.
        if (candidate.name !== null) skipped.push({ file: candidate.file, reason: (error as Error).message.split('\n')[0] });
        continue;
      }
      const ref = pngModelRef(bytes);
      const modelName = ref.name ?? 'unknown model';
      let name = candidate.name;
      if (name === null) {
        name = newImageName();
        renameSync(candidate.file, path.join(imagesDir, name));
      }
      const thumbnail = existsSync(path.join(thumbnailsDir, name)) || writeThumbnail(path.join(thumbnailsDir, name), read.image) ? name : null;
      const row = generationRow({
        createdAt: new Date(candidate.mtimeMs).toISOString(),
        settings: read.settings,
        modelId: options.modelIdFor?.(modelName, ref.hash) ?? modelName,
        modelName,
        modelHash: ref.hash ?? '',
        width: read.image.width,
        height: read.image.height,
        provider: 'unknown',
        cost: UNKNOWN_COST,
        durationMs: 0,
        warnings: [RECOVERED_WARNING],
        fingerprint: UNKNOWN_FINGERPRINT,
        parentId: null,
        imageFile: name,
        thumbnailFile: thumbnail,
      });
      recovered.push(Number(insert.run(row).lastInsertRowid));
    }
  } finally {
    db.close();
  }
  return { movedAside, recovered, skipped };
}

function writeThumbnail(file: string, image: DecodedPng): boolean {
  try {
    writeFileAtomic(file, encodeThumbnail(image));
    return true;
  } catch {
    return false;
  }
}
