/**
 * The shape of the source tree, checked: imports form no cycle, each room imports only the
 * rooms below it (docs/architecture.md), only the Electron entry and the preload import
 * 'electron', and no source file grows past ~400 lines without saying why at its top.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';

const SRC = __dirname;
const LONG_FILE_LINES = 400;
/** The marker a long file's opening comment carries, followed by the reason. */
const LONG_FILE_REASON = 'Long because:';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === 'vectors' || name === 'samples' ? [] : sourceFiles(full);
    return /\.(ts|svelte)$/.test(name) && !name.endsWith('.d.ts') ? [full] : [];
  });
}

const files = sourceFiles(SRC);
const rel = (file: string) => path.relative(SRC, file).split(path.sep).join('/');

/** Every module specifier a file imports or re-exports, type-only ones included. */
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  const patterns = [/^\s*(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]/gms, /^\s*import\s*['"]([^'"]+)['"]/gm, /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g];
  for (const pattern of patterns) for (const match of text.matchAll(pattern)) found.push(match[1]!);
  return found;
}

function resolveRelative(from: string, specifier: string): string | null {
  const base = path.resolve(path.dirname(from), specifier);
  for (const candidate of [base, `${base}.ts`, `${base}.svelte`, path.join(base, 'index.ts')]) {
    if (files.includes(candidate)) return candidate;
  }
  return null;
}

const graph = new Map<string, string[]>();
const packages = new Map<string, string[]>();
for (const file of files) {
  const specs = specifiers(file);
  graph.set(file, specs.filter((s) => s.startsWith('.')).map((s) => resolveRelative(file, s)).filter((f): f is string => f !== null));
  packages.set(file, specs.filter((s) => !s.startsWith('.')));
}

/** The room of a source file: its folder under src/ (src/main/* one level deeper). */
function roomOf(file: string): string {
  const parts = rel(file).split('/');
  if (parts[0] === 'main' && parts.length > 2) return `main/${parts[1]}`;
  return parts[0]!;
}

/** What each room may import, besides itself. */
const ALLOWED: Record<string, readonly string[]> = {
  shared: [],
  'main/core': ['shared'],
  'main/engineProcess': ['main/core', 'shared'],
  'main/studio': ['main/core', 'main/engineProcess', 'shared'],
  'main/server': ['main/studio', 'main/core', 'shared'],
  'main/electron': ['main/studio', 'main/engineProcess', 'main/core', 'shared'],
  cli: ['main/core', 'shared'],
  preload: ['shared'],
  renderer: ['shared'],
};

describe('the source tree', () => {
  test('every file is in a known room', () => {
    const unknown = files.filter((f) => !isTest(f) && !(roomOf(f) in ALLOWED) && rel(f) !== 'architecture.test.ts');
    expect(unknown.map(rel)).toEqual([]);
  });

  test('no import cycles (type-only imports included)', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const stack: string[] = [];
    const visit = (file: string) => {
      state.set(file, 'visiting');
      stack.push(file);
      for (const next of graph.get(file) ?? []) {
        if (state.get(next) === 'visiting') cycles.push([...stack.slice(stack.indexOf(next)), next].map(rel).join(' -> '));
        else if (!state.has(next)) visit(next);
      }
      stack.pop();
      state.set(file, 'done');
    };
    for (const file of files) if (!state.has(file)) visit(file);
    expect(cycles).toEqual([]);
  });

  test('rooms import only the rooms below them (tests may reach further)', () => {
    const breaches: string[] = [];
    for (const [file, targets] of graph) {
      if (isTest(file)) continue;
      const room = roomOf(file);
      for (const target of targets) {
        const to = roomOf(target);
        if (to !== room && !(ALLOWED[room] ?? []).includes(to)) breaches.push(`${rel(file)} -> ${rel(target)}`);
      }
    }
    expect(breaches).toEqual([]);
  });

  test("only the Electron entry and the preload import 'electron'", () => {
    const importers = [...packages].filter(([file, specs]) => !isTest(file) && specs.includes('electron')).map(([file]) => roomOf(file));
    expect(new Set(importers)).toEqual(new Set(['main/electron', 'preload']));
  });

  test(`no source file over ${LONG_FILE_LINES} lines without "${LONG_FILE_REASON}" at its top`, () => {
    const long = files.filter((file) => {
      if (isTest(file)) return false;
      const lines = readFileSync(file, 'utf8').split('\n');
      return lines.length > LONG_FILE_LINES && !lines.slice(0, 20).some((l) => l.includes(LONG_FILE_REASON));
    });
    expect(long.map(rel)).toEqual([]);
  });
});

function isTest(file: string): boolean {
  return /\.test\.ts$/.test(file) || file.includes(`${path.sep}testing${path.sep}`);
}
