import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';
import { runGalleryBenchmark } from './bench';
import { GalleryStore } from './store';

// The benchmark's figures are printed, never asserted as times: this checks that it runs and
// measures what it says (the matches), on a small gallery.
test('the gallery benchmark runs on a small gallery (2,000 rows with their files) and reports every figure', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gallery-bench-'));
  try {
    const figures = await runGalleryBenchmark(dir, 2000, { opens: 2 });
    expect(figures.rows).toBe(2000);
    expect(figures.files).toBe(4000);
    for (const key of ['seedMs', 'openMs', 'reconciledMs', 'passMaxBlockMs', 'passCpuMs', 'longestStepCpuMs', 'openWithReconcileMs', 'firstPageMs', 'searchCommonWordMs', 'filteredPageMs', 'prefixSearchMs', 'searchModelMs', 'searchSeedMs', 'lastPageMs', 'getMs']) {
      expect(figures[key], key).toBeGreaterThanOrEqual(0);
    }
    expect(figures.reconciledMs).toBeGreaterThanOrEqual(figures.openMs);
    expect(figures.searchCommonWordMatches).toBeGreaterThan(100);
    expect(figures.filteredMatches).toBeGreaterThan(5);
    expect(figures.searchModelMatches).toBeGreaterThan(200); // one model in four
    expect(figures.searchModelMatches).toBeLessThan(800);
    expect(figures.searchModelAndWordMatches).toBeLessThan(figures.searchModelMatches);
    expect(figures.searchSeedMatches).toBeGreaterThanOrEqual(1);

    // The seeded rows read back as valid contract records with their files: nothing to reconcile.
    const store = GalleryStore.open(dir);
    try {
      expect(store.openReport).toEqual({ orphanFiles: [], missingFiles: [], rebuiltThumbnails: [] });
      expect(store.get(1)!.settings.prompt).toBe(store.get(1)!.prompt);
      expect(store.imageFile(1)).not.toBeNull();
      expect(store.list({ search: 'lighthouse', limit: 5 }).items[0].prompt).toMatch(/lighthouse/);
    } finally {
      store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without files the seeded rows are the missing ones reconcile reports', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gallery-bench-'));
  try {
    await runGalleryBenchmark(dir, 300, { files: false, opens: 1 });
    const store = GalleryStore.open(dir);
    try {
      expect(store.openReport.missingFiles).toHaveLength(300);
    } finally {
      store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
