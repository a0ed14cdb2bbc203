import type { GenerationRecord } from '../../../shared/contract';
import { pngUrl } from '../lib/images';

export interface BatchImage {
  record: GenerationRecord;
  /** A Blob URL of its own: the job's result URL is revoked when the next image arrives. */
  url: string;
}

/** A batch (batch count > 1): the seeds it makes, which one is running, and the images so far. */
export class BatchRun {
  images = $state.raw<BatchImage[]>([]);
  current = $state(0);
  running = $state(true);
  readonly seeds: readonly number[];
  #disposed = false;

  constructor(seeds: readonly number[]) {
    this.seeds = seeds;
  }

  get total(): number {
    return this.seeds.length;
  }

  /** Keeps a finished image under a URL of its own (the job revokes its URL at the next result). */
  add(record: GenerationRecord, png: Uint8Array): void {
    if (this.#disposed) return;
    this.images = [...this.images, { record, url: pngUrl(png) }];
  }

  finish(): void {
    this.running = false;
  }

  /** Frees the pictures (a new batch or run replaces this one). */
  dispose(): void {
    this.#disposed = true;
    this.running = false;
    for (const image of this.images) URL.revokeObjectURL(image.url);
    this.images = [];
  }
}
