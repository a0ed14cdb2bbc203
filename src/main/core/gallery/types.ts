/** What the gallery takes and gives beyond the contract's types, and its one error class. */
import type { CostReport, GenerationSummary, InputKind, Settings } from '../../../shared/contract';
import type { RgbaPixels } from '../io/png';
import type { Fingerprint } from './fingerprint';

export type { RgbaPixels };

/** A result already encoded (by the engine process): the gallery PNG with its metadata chunks, and its thumbnail. */
export interface EncodedImage {
  width: number;
  height: number;
  png: Uint8Array;
  thumbnail: Uint8Array;
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
  /** Pixels, which the gallery encodes (the CLI), or the files' bytes, which it stores as they are (the studio). */
  image: RgbaPixels | EncodedImage;
  /** What it was made from, kept for re-runs (inputs.ts): init image and mask as PNG bytes, initial noise as .npy bytes. */
  inputs?: NewInputs;
}

export type NewInputs = Partial<Record<InputKind, Uint8Array>>;

export interface EmptyTrashReport {
  /** Ids of the generations deleted for good. */
  deleted: number[];
  /** Bytes of the files deleted: their images and thumbnails, and the inputs no remaining generation uses. */
  freedBytes: number;
}

export interface ListQuery {
  /**
   * Words that must each match the prompt, negative prompt or tags (the last one may be a
   * prefix), the model's name (words beginning its words), or, for a whole number, the seed.
   */
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
  /**
   * When open() reconciles files with rows (reconcile.ts): 'now' (default) before it returns,
   * with the report in openReport; 'background' after it returns, in slices between which the
   * event loop runs (the studio's main process: open is then independent of the gallery's
   * size), with the report in the store's `reconciled` promise.
   */
  reconcile?: 'now' | 'background';
  /** How long one background slice may run before the event loop gets a turn; default 8 ms. */
  sliceMs?: number;
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

export class GalleryError extends Error {
  constructor(
    readonly code: 'not-found' | 'invalid',
    message: string,
  ) {
    super(message);
    this.name = 'GalleryError';
  }
}
