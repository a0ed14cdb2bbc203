import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';
import { runGalleryBenchmark } from './bench';
import { GalleryStore } from './store';

test('the gallery benchmark runs on a small gallery (2,000 rows) and reports every figure', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gallery-bench-'));
  try {
    const figures = await runGalleryBenchmark(dir, 2000);
    expect(figures.rows).toBe(2000);
    for (const key of ['seedMs', 'openMs', 'firstPageMs', 'searchCommonWordMs', 'filteredPageMs', 'prefixSearchMs', 'lastPageMs', 'getMs']) {
      expect(figures[key], key).toBeGreaterThanOrEqual(0);
      expect(figures[key], key).toBeLessThan(5000);
    }
    expect(figures.searchCommonWordMatches).toBeGreaterThan(100);
    expect(figures.filteredMatches).toBeGreaterThan(5);

    // The seeded rows read back as valid contract records, and reconcile reports them as missing.
    const store = GalleryStore.open(dir);
    try {
      expect(store.openReport.missingFiles).toHaveLength(2000);
      expect(store.get(1)!.settings.prompt).toBe(store.get(1)!.prompt);
      expect(store.list({ search: 'lighthouse', limit: 5 }).items[0].prompt).toMatch(/lighthouse/);
    } finally {
      store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
