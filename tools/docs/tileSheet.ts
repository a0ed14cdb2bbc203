/**
 * Contact sheets for the docs generators and bench:grids' --sheet: RGBA tiles upscaled by
 * nearest neighbour (pixels stay pixels) into one picture.
 */
import { encodePng } from '../../src/main/core/io/png';
import type { RgbaImage } from '../../src/main/core/pipelines/images';

/** Copies `tile`, upscaled `scale` times, into the RGBA `sheet` (sheetWidth pixels wide) at (x0, y0). */
export function blit(sheet: Uint8Array, sheetWidth: number, tile: RgbaImage, x0: number, y0: number, scale: number): void {
  for (let y = 0; y < tile.height * scale; y++) {
    for (let x = 0; x < tile.width * scale; x++) {
      const from = 4 * (Math.floor(y / scale) * tile.width + Math.floor(x / scale));
      sheet.set(tile.data.subarray(from, from + 4), 4 * ((y0 + y) * sheetWidth + x0 + x));
    }
  }
}

/** Rows of equal-sized tiles separated by a white gap, as PNG bytes; short rows end in white. */
export function tileSheet(rows: readonly (readonly RgbaImage[])[], scale: number, gap = 4): Uint8Array {
  const w = rows[0][0].width * scale;
  const h = rows[0][0].height * scale;
  const columns = Math.max(...rows.map((r) => r.length));
  const width = columns * (w + gap) + gap;
  const height = rows.length * (h + gap) + gap;
  const data = new Uint8Array(width * height * 4).fill(255);
  rows.forEach((tiles, row) => tiles.forEach((image, column) => blit(data, width, image, gap + column * (w + gap), gap + row * (h + gap), scale)));
  return encodePng({ width, height, channels: 4, data });
}
