import { describe, expect, it } from 'vitest';
import { columnsFor, gridWindow, pagesCovering } from './virtualGrid';
import { UndoStack } from './undoStack';
import { coverCrop, displaySize } from '../lib/geometry';

describe('gridWindow', () => {
  it('renders the visible rows plus overscan and pads the rest', () => {
    const w = gridWindow({ total: 1000, columns: 4, rowHeight: 100, scrollTop: 1050, viewportHeight: 400, overscan: 2 });
    expect(w).toEqual({ totalRows: 250, firstRow: 8, endRow: 17, startIndex: 32, endIndex: 68, padTop: 800, padBottom: 23300 });
  });

  it('clamps at both ends and handles a partial last row', () => {
    expect(gridWindow({ total: 10, columns: 4, rowHeight: 100, scrollTop: 0, viewportHeight: 1000, overscan: 2 })).toMatchObject({ firstRow: 0, endRow: 3, startIndex: 0, endIndex: 10, padBottom: 0 });
    expect(gridWindow({ total: 10, columns: 4, rowHeight: 100, scrollTop: 99999, viewportHeight: 200, overscan: 1 })).toMatchObject({ firstRow: 1, endRow: 3, endIndex: 10 });
    expect(gridWindow({ total: 0, columns: 4, rowHeight: 100, scrollTop: 0, viewportHeight: 200, overscan: 1 }).endIndex).toBe(0);
  });

  it('finds the pages and columns', () => {
    expect(pagesCovering(32, 68, 60)).toEqual([0, 1]);
    expect(pagesCovering(0, 60, 60)).toEqual([0]);
    expect(pagesCovering(5, 5, 60)).toEqual([]);
    expect(columnsFor(300, 88, 6)).toBe(3);
    expect(columnsFor(10, 88, 6)).toBe(1);
  });
});

describe('UndoStack', () => {
  it('keeps the newest snapshots up to its limit', () => {
    const s = new UndoStack<number>(3);
    for (const n of [1, 2, 3, 4]) s.push(n);
    expect(s.size).toBe(3);
    expect([s.pop(), s.pop(), s.pop(), s.pop()]).toEqual([4, 3, 2, undefined]);
  });
});

describe('geometry', () => {
  it('centre-crops to cover the target', () => {
    expect(coverCrop(200, 100, 32, 32)).toEqual({ sx: 50, sy: 0, sw: 100, sh: 100 });
    expect(coverCrop(64, 64, 32, 32)).toEqual({ sx: 0, sy: 0, sw: 64, sh: 64 });
  });

  it('scales small pictures up by a whole factor, pixelated', () => {
    expect(displaySize(8, 8, 320)).toEqual({ width: 320, height: 320, pixelated: true });
    expect(displaySize(32, 32, 320)).toEqual({ width: 320, height: 320, pixelated: true });
    expect(displaySize(512, 256, 320)).toEqual({ width: 320, height: 160, pixelated: false });
  });
});
