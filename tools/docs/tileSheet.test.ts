import { describe, expect, test } from 'vitest';
import { decodePng } from '../../src/main/core/io/png';
import type { RgbaImage } from '../../src/main/core/pipelines/images';
import { tileSheet } from './tileSheet';

/** A 2x2 tile whose four pixels are distinct colours, so a misplaced pixel shows. */
function tile(shade: number): RgbaImage {
  const data = new Uint8Array(16);
  for (let p = 0; p < 4; p++) data.set([shade, 40 * p, 200 - shade, 255], 4 * p);
  return { width: 2, height: 2, data };
}

describe('the contact sheet of the docs generators and bench:grids --sheet', () => {
  test('rows of tiles upscaled by nearest neighbour, white gaps, short rows padded with white', () => {
    const [a, b, c] = [tile(10), tile(90), tile(170)];
    const png = decodePng(tileSheet([[a, b], [c]], 3, 1));
    // 2 columns of 6 px tiles and 1 px gaps: 1 + 2 * (6 + 1) = 15 wide; 2 rows likewise.
    expect([png.width, png.height]).toEqual([15, 15]);
    const pixel = (x: number, y: number) => Array.from(png.data.subarray(4 * (y * png.width + x), 4 * (y * png.width + x) + 4));
    // Tile b's top-right source pixel (1, 0) covers sheet x 1 + 7 + 3..5, y 1..3.
    expect(pixel(8 + 3, 1)).toEqual([90, 40, 110, 255]);
    expect(pixel(8 + 5, 3)).toEqual([90, 40, 110, 255]);
    // Tile c's bottom-left source pixel (0, 1) sits in the second row.
    expect(pixel(1, 8 + 4)).toEqual([170, 80, 30, 255]);
    expect(pixel(7, 5)).toEqual([255, 255, 255, 255]); // the gap between a and b
    expect(pixel(10, 10)).toEqual([255, 255, 255, 255]); // no tile beside c
  });
});
