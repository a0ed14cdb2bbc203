/** Pictures in and out: PNG bytes <-> Blob URLs, and any image file to PNG at a given size. */
import { coverCrop } from './geometry';

/** PNG bytes as the contract takes them. */
export type Png = Uint8Array<ArrayBuffer>;

export function pngUrl(bytes: Uint8Array): string {
  return URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'image/png' }));
}

export function canvasToPng(canvas: HTMLCanvasElement): Promise<Png> {
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => {
      if (!blob) return reject(new Error('could not encode the picture as PNG'));
      blob.arrayBuffer().then((buffer) => resolve(new Uint8Array(buffer)), reject);
    }, 'image/png');
  });
}

/** Any picture the browser reads, centre-cropped and scaled to width x height, as PNG bytes. */
export async function fileToPng(file: Blob, width: number, height: number): Promise<Png> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    throw new Error('this file is not a picture the studio can read (try PNG, JPEG or WebP)');
  }
  try {
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('no 2D canvas available');
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'high';
    const { sx, sy, sw, sh } = coverCrop(bitmap.width, bitmap.height, width, height);
    ctx.drawImage(bitmap, sx, sy, sw, sh, 0, 0, width, height);
    return await canvasToPng(canvas);
  } finally {
    bitmap.close();
  }
}

/** Saves PNG bytes as a download named `name` (the browser's or Electron's download path). */
export function downloadPng(bytes: Uint8Array, name: string): void {
  const url = pngUrl(bytes);
  try {
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    a.rel = 'noopener';
    document.body.append(a);
    a.click();
    a.remove();
  } finally {
    // Give the browser the time to start the download before the URL goes.
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }
}
