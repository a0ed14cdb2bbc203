/**
 * A contact sheet as PNG bytes: rows of equal-sized RGBA tiles, each upscaled by nearest
 * neighbour (pixels stay pixels) and separated by a white gap. Used by the docs generators and
 * bench:grids' --sheet.
 */
import { encodePng } from '../../src/main/core/io/png';
import type { RgbaImage } from '../../src/main/core/pipelines/images';

export function tileSheet(rows: readonly (readonly RgbaImage[])[], scale: number, gap = 4): Uint8Array {
  const { width: tileWidth, height: tileHeight } = rows[0][0];
  const [w, h] = [tileWidth * scale, tileHeight * scale];
  const columns = Math.max(...rows.map((r) => r.length));
  const width = columns * (w + gap) + gap;
  const height = rows.length * (h + gap) + gap;
  const data = new Uint8Array(width * height * 4).fill(255);
  rows.forEach((tiles, row) =>
    tiles.forEach((image, column) => {
      const x0 = gap + column * (w + gap);
      const y0 = gap + row * (h + gap);
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const from = 4 * (Math.floor(y / scale) * image.width + Math.floor(x / scale));
          data.set(image.data.subarray(from, from + 4), 4 * ((y0 + y) * width + x0 + x));
        }
      }
    }),
  );
  return encodePng({ width, height, channels: 4, data });
}
