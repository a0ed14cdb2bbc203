#!/usr/bin/env node
// Issue 16's table: our split-pc3 against DPM-Solver++(2M) and UniPC-2 on their best grid, at 10,
// 15 and 20 network calls, under CFG on the default model and under classifier guidance on the
// exact model, every figure from `split-studio sweep --json` (docs/solvers.md, "Split exponential
// solvers", shows the table this printed).
//
//   node tools/bench/guidedSolvers.mjs run   [--out DIR] [--cli PATH] [--parallel N]   (sweeps; ~10 min a prompt on 2 cores)
//   node tools/bench/guidedSolvers.mjs run-crossing [--out DIR] [--cli PATH]           (20-30 NFE: where DDIM-250's error is reached)
//   node tools/bench/guidedSolvers.mjs table [--out DIR]                                (the tables from DIR's JSON)
//
// DDIM-250's error on the network model needs no run of its own: the reference is
// R = 2 DDIM(500) - DDIM(250), so DDIM(250) - R = 2 (DDIM(250) - DDIM(500)), whose RMS is exactly
// twice the reference's stated accuracy |DDIM(500) - DDIM(250)|. On the exact model DDIM-250 is run.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
const mode = args[0] ?? 'table';
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const out = flag('out', 'tmp/guided-solvers');
const cli = flag('cli', 'bin/split-studio.js');
const parallel = Number(flag('parallel', '3'));

const PROMPTS = ['red apple on a blue background', 'cat face, animals and nature', 'rocket on a black background'];
const SEEDS = '0,1,2,3';
const STEPS = '5,10,15,20';
const GRIDS = 'linspace,karras,logsnr';
const OURS = 'split-pc3';
const BASELINES = ['dpmpp2m', 'unipc2'];

function sweep(extra, file) {
  return new Promise((resolve, reject) => {
    const argv = [cli, 'sweep', '--seeds', SEEDS, '--no-save', '--json', path.join(out, file), ...extra];
    process.stderr.write(`node ${argv.join(' ')}\n`);
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${file}: exit ${code}`))));
  });
}

async function run() {
  mkdirSync(out, { recursive: true });
  const jobs = [
    ...PROMPTS.map((prompt, i) => () => sweep(['--solvers', [OURS, ...BASELINES].join(','), '--steps', STEPS, '--spacing', GRIDS, '--guidance', '3,5,7.5', '--prompt', prompt], `network-${i}.json`)),
    () => sweep(['--model', 'resources/exact/gmm-3x32x32', '--solvers', [OURS, ...BASELINES].join(','), '--steps', STEPS, '--spacing', GRIDS, '--class', '0', '--classifier-scale', '10,20'], 'exact.json'),
    () => sweep(['--model', 'resources/exact/gmm-3x32x32', '--solvers', 'ddim', '--steps', '250', '--spacing', 'linspace', '--class', '0', '--classifier-scale', '10,20'], 'exact-ddim250.json'),
  ];
  // The budget at which split-pc3 and UniPC-2 reach DDIM-250's error, and the studio's current
  // default (STSP-4, same-point) and DDIM at the same budgets (their paper grid, linspace).
  if (mode === 'run-crossing') jobs.splice(0, jobs.length, ...PROMPTS.map((prompt, i) => () => sweep(['--solvers', `${OURS},unipc2,stsp4,ddim`, '--steps', '20,25,30', '--spacing', 'karras,linspace', '--guidance', '3,5,7.5', '--prompt', prompt], `crossing-${i}.json`)));
  const queue = [...jobs];
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (queue.length) await queue.shift()();
  }));
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const fmt = (v) => (v === undefined ? '-' : v >= 1 ? v.toFixed(2) : v.toFixed(4));

const compact = [];

function table() {
  const docs = readdirSync(out).filter((f) => f.endsWith('.json')).map((f) => ({ file: f, doc: JSON.parse(readFileSync(path.join(out, f), 'utf8')) }));
  for (const kind of ['network', 'exact']) {
    const chosen = docs.filter((d) => d.file.startsWith(kind));
    if (!chosen.length) continue;
    const runs = chosen.flatMap((d) => d.doc.runs.map((r) => ({ ...r, prompt: d.doc.spec.prompt })));
    const refs = chosen.flatMap((d) => d.doc.references);
    const scaleOf = (r) => (kind === 'network' ? r.guidance : r.classifierScale);
    const scales = [...new Set(runs.filter((r) => r.solver !== 'ddim').map(scaleOf))].sort((a, b) => a - b);
    const cell = (solver, spacing, scale, steps) => {
      const errs = runs.filter((r) => r.solver === solver && r.spacing === spacing && scaleOf(r) === scale && r.steps === steps).map((r) => r.rmsError ?? Infinity);
      return errs.length ? mean(errs) : undefined;
    };
    const samples = new Set(runs.map((r) => `${r.seed}`)).size * chosen.filter((d) => d.doc.runs.some((r) => r.solver !== 'ddim')).length;
    console.log(`\n## ${kind === 'network' ? 'Noto Emoji 32, CFG w' : 'gmm-3x32x32, classifier scale s'} (mean RMS error over ${samples} prompt x seed pairs)\n`);
    for (const scale of scales) {
      const accuracy = mean(refs.filter((r) => scaleOf(r) === scale).map((r) => r.accuracy));
      const ddim250 = kind === 'network' ? 2 * mean(refs.filter((r) => scaleOf(r) === scale).map((r) => r.accuracy)) : cell('ddim', 'linspace', scale, 250);
      console.log(`### ${kind === 'network' ? 'w' : 's'} = ${scale}: reference accuracy ${accuracy.toExponential(2)} (mean), DDIM-250 error ${fmt(ddim250)}\n`);
      console.log(`| NFE | ${GRIDS.split(',').map((g) => `${OURS} ${g}`).join(' | ')} | ${BASELINES.flatMap((b) => GRIDS.split(',').map((g) => `${b} ${g}`)).join(' | ')} | best baseline | ours / best | pairs won | <= DDIM-250 |`);
      console.log(`|---|${'---|'.repeat(3 + BASELINES.length * 3 + 4)}`);
      for (const steps of STEPS.split(',').map(Number)) {
        const ours = GRIDS.split(',').map((g) => cell(OURS, g, scale, steps));
        const base = BASELINES.flatMap((b) => GRIDS.split(',').map((g) => cell(b, g, scale, steps)));
        const best = Math.min(...base.filter((v) => v !== undefined));
        const bestOurs = Math.min(...ours.filter((v) => v !== undefined));
        // Paired: on how many prompt x seed pairs our best grid beats the best baseline grid.
        const oursGrid = GRIDS.split(',')[ours.indexOf(bestOurs)];
        const baseKey = BASELINES.flatMap((b) => GRIDS.split(',').map((g) => [b, g]))[base.indexOf(best)];
        const pick = (solver, spacing) => runs.filter((r) => r.solver === solver && r.spacing === spacing && scaleOf(r) === scale && r.steps === steps);
        const mine = pick(OURS, oursGrid);
        const theirs = pick(baseKey[0], baseKey[1]);
        const wins = mine.filter((r) => (r.rmsError ?? Infinity) < (theirs.find((t) => t.seed === r.seed && t.prompt === r.prompt)?.rmsError ?? Infinity)).length;
        console.log(`| ${steps} | ${ours.map(fmt).join(' | ')} | ${base.map(fmt).join(' | ')} | ${fmt(best)} (${baseKey.join(' ')}) | ${(bestOurs / best).toFixed(2)} (${oursGrid}) | ${wins}/${mine.length} | ${bestOurs <= ddim250 ? 'yes' : 'no'} |`);
        compact.push(`| ${kind === 'network' ? 'Noto Emoji 32' : 'gmm-3x32x32'} | ${kind === 'network' ? 'w' : 's'} = ${scale} | ${steps} | ${ours.map(fmt).join(' / ')} | ${base.slice(0, 3).map(fmt).join(' / ')} | ${base.slice(3).map(fmt).join(' / ')} | ${(bestOurs / best).toFixed(2)} (${oursGrid} vs ${baseKey.join(' ')}) | ${wins}/${mine.length} | ${bestOurs <= ddim250 ? 'yes' : 'no'} (${fmt(bestOurs)} vs ${fmt(ddim250)}) |`);
      }
      console.log('');
    }
  }
  console.log('\n## One table (docs/solvers.md): split-pc3 linspace / karras / logsnr | DPM++(2M) | UniPC-2 | ours / best | pairs | <= DDIM-250\n');
  for (const line of compact) console.log(line);
  const crossing = docs.filter((d) => d.file.startsWith('crossing'));
  if (crossing.length) {
    const runs = crossing.flatMap((d) => d.doc.runs);
    const refs = crossing.flatMap((d) => d.doc.references);
    const columns = [[OURS, 'karras'], ['unipc2', 'karras'], ['stsp4', 'linspace'], ['ddim', 'linspace']];
    console.log(`\n## Noto Emoji 32, 20-30 NFE (mean RMS error over ${crossing.length * 4} prompt x seed pairs; STSP-4 same-point)\n`);
    console.log(`| w | NFE | ${columns.map((c) => c.join(' ')).join(' | ')} | DDIM-250 |`);
    console.log(`|---|---|${columns.map(() => '---').join('|')}|---|`);
    for (const w of [...new Set(runs.map((r) => r.guidance))].sort((a, b) => a - b)) {
      const ddim250 = 2 * mean(refs.filter((r) => r.guidance === w).map((r) => r.accuracy));
      for (const steps of [...new Set(runs.map((r) => r.steps))].sort((a, b) => a - b)) {
        const cells = columns.map(([solver, spacing]) => {
          const list = runs.filter((r) => r.solver === solver && r.spacing === spacing && r.guidance === w && r.steps === steps);
          // NFE = steps for all four but PLMS-type warm-ups; STSP-4 same-point costs N.
          return list.length ? fmt(mean(list.map((r) => r.rmsError ?? Infinity))) : '-';
        });
        console.log(`| ${w} | ${steps} | ${cells.join(' | ')} | ${fmt(ddim250)} |`);
      }
    }
  }
}

if (mode === 'run' || mode === 'run-crossing') await run();
else if (mode === 'table') table();
else {
  console.error('usage: node tools/bench/guidedSolvers.mjs run|table [--out DIR] [--cli PATH] [--parallel N]');
  process.exit(2);
}
