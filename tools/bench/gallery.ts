/**
 * `npm run bench:gallery`: the gallery at 100,000 generations (or `--rows N`), in a temporary
 * folder removed afterwards: how long opening it takes (reconcile included), the first page,
 * a full-text search for a common word, a filtered page and a few more, each the median of
 * several runs (src/main/core/gallery/bench.ts), against the studio's 50 ms target. A benchmark,
 * not a test: it prints, it does not fail.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { COMMON_WORD, runGalleryBenchmark } from '../../src/main/core/gallery/bench';

const TARGET_MS = 50;
const args = process.argv.slice(2);
const rowsArg = args.indexOf('--rows');
const rows = rowsArg >= 0 ? Number(args[rowsArg + 1]) : 100_000;
if (!Number.isInteger(rows) || rows < 1) {
  process.stderr.write('bench:gallery: --rows must be a whole number >= 1\n');
  process.exit(2);
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'split-bench-gallery-'));
try {
  console.log(`gallery benchmark: ${rows.toLocaleString('en')} rows in ${dir}; ${os.cpus()[0]?.model ?? 'cpu'}, ${os.availableParallelism?.() ?? os.cpus().length} cores`);
  const f = await runGalleryBenchmark(dir, rows);
  console.log(`seeded ${f.rows.toLocaleString('en')} rows in ${(f.seedMs / 1000).toFixed(1)} s\n`);
  const table: [string, number, boolean, string][] = [
    ['open (with reconcile)', f.openMs, true, ''],
    ['first page (60)', f.firstPageMs, true, ''],
    [`FTS search "${COMMON_WORD}"`, f.searchCommonWordMs, true, `${f.searchCommonWordMatches.toLocaleString('en')} matches`],
    ['filtered page (model + solver)', f.filteredPageMs, true, `${f.filteredMatches.toLocaleString('en')} matches`],
    ['prefix search "lighthouse dus"', f.prefixSearchMs, false, ''],
    ['last page', f.lastPageMs, false, ''],
    ['get one record', f.getMs, false, ''],
  ];
  const width = Math.max(...table.map(([name]) => name.length));
  console.log(`${'operation'.padEnd(width)}  ${'median ms'.padStart(9)}  target`);
  for (const [name, ms, targeted, note] of table) {
    const verdict = targeted ? (ms < TARGET_MS ? `< ${TARGET_MS} ok` : `> ${TARGET_MS} SLOW`) : '';
    console.log(`${name.padEnd(width)}  ${ms.toFixed(2).padStart(9)}  ${verdict.padEnd(9)}${note ? `  ${note}` : ''}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
