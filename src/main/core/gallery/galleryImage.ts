/**
 * The two files of a gallery entry, from a result's pixels: the PNG with the metadata chunks
 * (pngMetadata.ts) and its thumbnail. One function for every writer, so that the studio's
 * engine process and the gallery (for the CLI) make the same bytes from the same result.
 */
import type { Settings } from '../../../shared/contract';
import { type RgbaPixels, encodePng } from '../io/png';
import { encodeThumbnail } from '../io/thumbnail';
import { pngTextOptions } from './pngMetadata';
import type { EncodedImage } from './types';

/** What the PNG records beside the settings. */
export interface ImageMetadata {
  /** The model's short hash (shortModelHash) and its name, as A1111's `Model hash` and `Model`. */
  modelHash: string;
  modelName: string;
  /** The engine version, for the `Software` chunk. */
  engineVersion: string;
}

export function encodeGalleryImage(image: RgbaPixels, settings: Settings, metadata: ImageMetadata): EncodedImage {
  const text = pngTextOptions(settings, { modelHash: metadata.modelHash, modelName: metadata.modelName, software: `Split Studio ${metadata.engineVersion}` });
  return { width: image.width, height: image.height, png: encodePng({ ...image, channels: 4 }, text), thumbnail: encodeThumbnail(image) };
}
