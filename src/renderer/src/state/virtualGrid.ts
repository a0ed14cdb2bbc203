/** Windowing arithmetic for the gallery's virtualised grid and its paged loading. Plain logic. */

export interface GridWindowInput {
  total: number;
  columns: number;
  rowHeight: number;
  scrollTop: number;
  viewportHeight: number;
  /** Rows rendered above and below the visible ones. */
  overscan: number;
}

export interface GridWindow {
  totalRows: number;
  firstRow: number;
  /** Exclusive. */
  endRow: number;
  startIndex: number;
  /** Exclusive. */
  endIndex: number;
  padTop: number;
  padBottom: number;
}

export function gridWindow({ total, columns, rowHeight, scrollTop, viewportHeight, overscan }: GridWindowInput): GridWindow {
  const cols = Math.max(1, Math.floor(columns));
  const totalRows = Math.ceil(Math.max(0, total) / cols);
  if (totalRows === 0 || rowHeight <= 0) return { totalRows, firstRow: 0, endRow: 0, startIndex: 0, endIndex: 0, padTop: 0, padBottom: 0 };
  const top = Math.max(0, scrollTop);
  const firstVisible = Math.min(totalRows - 1, Math.floor(top / rowHeight));
  const lastVisible = Math.min(totalRows, Math.ceil((top + Math.max(0, viewportHeight)) / rowHeight));
  const firstRow = Math.max(0, firstVisible - overscan);
  const endRow = Math.min(totalRows, Math.max(lastVisible, firstVisible + 1) + overscan);
  return {
    totalRows,
    firstRow,
    endRow,
    startIndex: firstRow * cols,
    endIndex: Math.min(total, endRow * cols),
    padTop: firstRow * rowHeight,
    padBottom: (totalRows - endRow) * rowHeight,
  };
}

/** Pages (offset = page * size) that hold items [start, end). */
export function pagesCovering(start: number, end: number, pageSize: number): number[] {
  if (end <= start) return [];
  const pages: number[] = [];
  for (let p = Math.floor(start / pageSize); p <= Math.floor((end - 1) / pageSize); p++) pages.push(p);
  return pages;
}

export function columnsFor(width: number, cellWidth: number, gap: number): number {
  return Math.max(1, Math.floor((width + gap) / (cellWidth + gap)));
}
