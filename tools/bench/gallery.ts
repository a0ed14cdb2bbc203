/**
 * `npm run bench:gallery`: the gallery at 100,000 generations (or `--rows N`) with their
 * 100,000 images and 100,000 thumbnails on disk (`--no-files`: rows only), in a temporary
 * folder removed afterwards (src/main/core/gallery/bench.ts): opening it with the reconcile
 * in the background (the studio) and with it before open returns (the CLI), when the
 * background pass finishes and the longest it held the event loop, then the list queries,
 * each the median of several runs, against the studio's targets (200 ms to open, 50 ms per
 * query). A benchmark, not a test: it prints, it does not fail. The virtualised grid's
 * scroll frames are `npm run bench:gallery-scroll`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { COMMON_WORD, MODEL_WORD, runGalleryBenchmark } from '../../src/main/core/gallery/bench';

const args = process.argv.slice(2);
const rowsArg = args.indexOf('--rows');
const rows = rowsArg >= 0 ? Number(args[rowsArg + 1]) : 100_000;
const files = !args.includes('--no-files');
if (!Number.isInteger(rows) || rows < 1) {
  process.stderr.write('bench:gallery: --rows must be a whole number >= 1\n');
  process.exit(2);
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'split-bench-gallery-'));
try {
  const n = (v: number) => v.toLocaleString('en');
  console.log(`gallery benchmark: ${n(rows)} rows${files ? ` and ${n(2 * rows)} files` : ', no files'} in ${dir}; ${os.cpus()[0]?.model ?? 'cpu'}, ${os.availableParallelism?.() ?? os.cpus().length} cores, Node ${process.versions.node}`);
  const f = await runGalleryBenchmark(dir, rows, { files });
  console.log(`seeded in ${(f.seedMs / 1000).toFixed(1)} s\n`);
  const table: [string, number, number | null, string][] = [
    ['open, reconcile in background (studio)', f.openMs, 200, `each: ${[1, 2, 3, 4, 5].map((i) => f[`open${i}Ms`]?.toFixed(1)).join(', ')}`],
    ['  first page, asked at once', f.firstPageDuringPassMs, 50, ''],
    ['  background pass done, after open', f.reconciledMs, null, ''],
    ['  longest event-loop block in the pass', f.passMaxBlockMs, 50, ''],
    ['  the pass step by step: CPU time', f.passCpuMs, null, `${n(f.passSteps)} steps`],
    ['  longest step, CPU time', f.longestStepCpuMs, null, `wall ${f.longestStepMs.toFixed(2)} ms (waits for a core included)`],
    ['open, reconcile before return (CLI)', f.openWithReconcileMs, null, ''],
    ['first page (60)', f.firstPageMs, 50, ''],
    [`search "${COMMON_WORD}" (prompt words)`, f.searchCommonWordMs, 50, `${n(f.searchCommonWordMatches)} matches`],
    ['filtered page (model + solver)', f.filteredPageMs, 50, `${n(f.filteredMatches)} matches`],
    ['search "lighthouse dus" (prefix)', f.prefixSearchMs, 50, ''],
    [`search "${MODEL_WORD}" (model name)`, f.searchModelMs, 50, `${n(f.searchModelMatches)} matches`],
    [`search "${MODEL_WORD} ${COMMON_WORD}"`, f.searchModelAndWordMs, 50, `${n(f.searchModelAndWordMatches)} matches`],
    ['search a seed', f.searchSeedMs, 50, `${n(f.searchSeedMatches)} matches`],
    ['last page', f.lastPageMs, null, ''],
    ['get one record', f.getMs, null, ''],
  ];
  const width = Math.max(...table.map(([name]) => name.length));
  console.log(`${'operation'.padEnd(width)}  ${'ms'.padStart(9)}  target`);
  for (const [name, ms, target, note] of table) {
    const verdict = target === null ? '' : ms < target ? `< ${target} ok` : `> ${target} SLOW`;
    console.log(`${name.padEnd(width)}  ${ms.toFixed(2).padStart(9)}  ${verdict.padEnd(10)}${note ? `  ${note}` : ''}`);
  }
  console.log('\nopen figures are medians of 5 opens; the rest medians of 5-9 runs, in ms');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
