/** Where the studio finds models: the ones it ships (resources/) and, later, the user's. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ModelFolder, readModelFolder } from './modelFolder';

/** The package root (the folder holding this project's package.json), from source or build. */
export function appRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if (JSON.parse(readFileSync(manifest, 'utf8')).name === 'split-studio') return dir;
      } catch {
        // not ours; keep walking up
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the split-studio installation folder');
    dir = parent;
  }
}

/** Folders of shipped models: the embedded default model(s) first, then the exact reference models. */
export function builtinModelDirs(): string[] {
  const root = appRoot();
  const dirs: string[] = [];
  for (const group of ['resources/models', 'resources/exact']) {
    const base = path.join(root, group);
    if (!existsSync(base)) continue;
    for (const entry of readdirSync(base, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.isDirectory() && existsSync(path.join(base, entry.name, 'model_index.json'))) dirs.push(path.join(base, entry.name));
    }
  }
  return dirs;
}

/** The embedded default model, if one is installed under resources/models. */
export function defaultModelDir(): string | undefined {
  return builtinModelDirs().find((d) => d.includes(`${path.sep}resources${path.sep}models${path.sep}`));
}

export interface CatalogEntry {
  dir: string;
  folder?: ModelFolder;
  error?: string;
}

export function listModels(dirs: readonly string[] = builtinModelDirs()): CatalogEntry[] {
  return dirs.map((dir) => {
    try {
      return { dir, folder: readModelFolder(dir) };
    } catch (error) {
      return { dir, error: (error as Error).message };
    }
  });
}
