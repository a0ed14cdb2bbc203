/**
 * `npm run docs:benchmarks`: the paper's claim (a splitting solver matches DDIM-250's error with
 * far fewer network calls) measured with `split-studio sweep`'s own code, on the exact model and on
 * the embedded default model, and written to docs/benchmarks.md with one SVG plot per guidance
 * setting (docs/benchmarks/*.svg) and each sweep's JSON document (docs/benchmarks/*.json).
 *
 * Every sweep is a `split-studio sweep` command line: it is parsed and planned by the CLI's
 * parseSweep, run by runSweep against the CLI's reference (sweepBase/sweepReference) and written
 * by sweepDocument/sweepJson, as `split-studio sweep ... --json FILE --no-save` writes it; the
 * page lists those command lines. The JSON files leave out each run's per-step errors
 * (stepErrors: thousands of numbers per sweep) and name the model folder relative to the
 * repository. Every number in the page is read from those documents or measured here, and the
 * script prints and records its own wall time.
 *
 * BENCHMARKS_QUICK=1 runs a tiny version into a temporary folder (a check of the script itself).
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SweepDocument, SweepRecord } from '../../src/shared/lab';
import { richardsonReference } from '../../src/main/core/lab/reference';
import { sweepDocument, sweepJson } from '../../src/main/core/lab/report';
import { noiseShape, runSweep, rmsError } from '../../src/main/core/lab/sweep';
import { torchRandn } from '../../src/main/core/engine/noise/torchRandn';
import { appRoot } from '../../src/main/core/models/catalog';
import { MAIN_MODEL_FILE, modelHashes } from '../../src/main/core/models/modelHashes';
import type { Pipeline } from '../../src/main/core/pipelines/pipeline';
import { defaultProviders } from '../../src/main/core/runtime/sessions';
import { parseSweep, sweepBase, sweepReference } from '../../src/cli/sweep';
import { openModel } from '../../src/cli/run';
import { logLogSvg } from './plot';

const started = performance.now();
const loadAtStart = os.loadavg()[0];
const root = appRoot();
process.chdir(root);
const QUICK = process.env.BENCHMARKS_QUICK === '1';
/** BENCHMARKS_RENDER_ONLY=1: the page and plots again from the committed JSON documents (docs/benchmarks/*.json, run.json), measuring nothing. */
const RENDER_ONLY = process.env.BENCHMARKS_RENDER_ONLY === '1';
/** BENCHMARKS_DIR: another folder for the JSON, plots and page (a check of the script that leaves docs/ alone). */
const otherDir = QUICK ? mkdtempSync(path.join(os.tmpdir(), 'benchmarks-')) : process.env.BENCHMARKS_DIR;
const outDir = otherDir ? path.resolve(otherDir) : path.join(root, 'docs', 'benchmarks');
const pagePath = otherDir ? path.join(outDir, 'benchmarks.md') : path.join(root, 'docs', 'benchmarks.md');
mkdirSync(outDir, { recursive: true });
const rel = (file: string) => path.relative(path.dirname(pagePath), file).split(path.sep).join('/');

// ---- what is measured -------------------------------------------------------------------
const EXACT_MODEL = 'resources/exact/gmm-3x32x32';
const EXACT_SOLVERS = ['ddim', 'plms4', 'ltsp4', 'stsp4', 'dpmpp2m', 'unipc2'];
/** DPM-Solver++ and UniPC also on logsnr, their best grid on the exact model (docs/solvers.md); the paper's solvers skip it. */
const EXACT_SPACINGS = ['linspace', 'logsnr'];
const EXACT_NFE = QUICK ? [10, 20, 250] : [8, 10, 12, 14, 16, 18, 20, 24, 28, 32, 40, 50, 64, 80, 100, 125, 160, 200, 250];
const EXACT_SCALES = QUICK ? [0, 10] : [0, 2, 10, 20];
const EXACT_SEEDS = QUICK ? [0] : [0, 1, 2, 3];

const NET_MODEL = 'resources/models/noto-emoji-32';
/** Three prompts from three groups; the class of classifier guidance is the prompt's group (studio.json "groups"). */
const PROMPTS = QUICK
  ? [{ prompt: 'red apple on a blue background', group: 3 }]
  : [
      { prompt: 'red apple on a blue background', group: 3 },
      { prompt: 'grinning face on a yellow background', group: 0 },
      { prompt: 'rocket on a black background', group: 4 },
    ];
const NET_SEEDS = QUICK ? [0] : [0, 1, 2, 3];
const CFG_SCALES = QUICK ? [5] : [3, 5, 7.5];
const NET_CLASSIFIER_SCALE = 10;
/** Under CFG with the default same-point placement LTSP-4 and STSP-4 are one solver (docs/solvers.md), so LTSP-4 runs under classifier guidance only. */
const CFG_SOLVERS = ['ddim', 'plms4', 'stsp4', 'dpmpp2m', 'unipc2'];
const CLS_SOLVERS = ['ddim', 'plms4', 'ltsp4', 'stsp4', 'dpmpp2m', 'unipc2'];
const NET_NFE = QUICK ? [10, 20] : [10, 15, 20];
/** N of the Richardson reference 2 DDIM(2N) - DDIM(N): with 125 its finer half is DDIM-250 itself. */
const NET_REFERENCE_STEPS = QUICK ? 10 : 125;
const TABLE_NFE = QUICK ? [10, 20] : [10, 15, 20];

// ---- running sweeps as the CLI runs them ------------------------------------------------------
interface Job {
  name: string;
  argv: string[];
}

const models = new Map<string, Pipeline>();
const timings: { name: string; runs: number; seconds: number }[] = [];

async function runJob(job: Job): Promise<SweepDocument> {
  const t0 = performance.now();
  const args = parseSweep(job.argv);
  let model = models.get(args.folder.dir);
  if (!model) {
    model = await openModel(args.folder, defaultProviders());
    models.set(args.folder.dir, model);
  }
  for (const line of args.plan.skipped) console.log(`  skipped ${line}`);
  console.log(`# ${job.name}: ${args.plan.runs.length} runs`);
  let done = 0;
  const outcome = await runSweep({
    pipeline: model, runs: args.plan.runs, base: sweepBase(args, model), reference: sweepReference(args, model),
    onRecord: () => {
      done++;
      if (done % 100 === 0) console.log(`  ${done} of ${args.plan.runs.length} runs, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    },
  });
  const doc = sweepDocument({
    model: { name: args.folder.name, dir: path.relative(root, args.folder.dir).split(path.sep).join('/'), kind: args.gmm ? 'exact' : 'network' },
    spec: args.spec, references: outcome.references, runs: outcome.records.map(({ stepErrors: _omitted, ...r }) => r), complete: outcome.complete,
    plannedRuns: args.plan.runs.length,
  });
  writeFileSync(path.join(outDir, `${job.name}.json`), sweepJson(doc));
  const seconds = (performance.now() - t0) / 1000;
  timings.push({ name: job.name, runs: doc.runs.length, seconds });
  console.log(`  ${job.name}: ${doc.runs.length} runs in ${seconds.toFixed(1)} s`);
  return doc;
}

const command = (argv: string[]) => 'split-studio sweep ' + argv.map((a) => (/^[\w.,/-]+$/.test(a) ? a : `"${a}"`)).join(' ');

// ---- reading the documents -------------------------------------------------------------------
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
/** A run's error; a non-finite x0 counts as infinitely far off. */
const errorOf = (r: SweepRecord) => r.rmsError ?? Infinity;
const e = (v: number) => (Number.isFinite(v) ? v.toExponential(2) : 'inf');
const sorted = (values: Iterable<number>) => [...new Set(values)].sort((a, b) => a - b);

interface Line {
  label: string;
  solver: string;
  spacing: string;
  /** Per budget (targetNfe): the runs. */
  byBudget: Map<number, SweepRecord[]>;
}

function linesOf(runs: SweepRecord[], solvers: string[]): Line[] {
  const out: Line[] = [];
  for (const solver of solvers) {
    for (const spacing of new Set(runs.filter((r) => r.solver === solver).map((r) => r.spacing))) {
      const mine = runs.filter((r) => r.solver === solver && r.spacing === spacing);
      const byBudget = new Map<number, SweepRecord[]>();
      for (const r of mine) byBudget.set(r.targetNfe!, [...(byBudget.get(r.targetNfe!) ?? []), r]);
      out.push({ label: spacing === 'linspace' ? solver : `${solver} (${spacing})`, solver, spacing, byBudget });
    }
  }
  return out;
}

const meanAt = (line: Line, budget: number) => {
  const runs = line.byBudget.get(budget);
  return runs ? mean(runs.map(errorOf)) : NaN;
};
/** The fewest calls (budget) at which the line's mean error is at most `target`, or null. */
const crossing = (line: Line, target: number) => sorted(line.byBudget.keys()).find((b) => meanAt(line, b) <= target) ?? null;
/** The engine's counted calls at a budget (PLMS's N + 1 may leave one unused): the median over the runs. */
const nfeAt = (line: Line, budget: number) => median(line.byBudget.get(budget)!.map((r) => r.nfe));

/** One colour per solver in every plot (its other grid dashed). */
const COLORS: Record<string, string> = { ddim: '#1f77b4', plms4: '#d62728', ltsp4: '#2ca02c', stsp4: '#9467bd', dpmpp2m: '#ff7f0e', unipc2: '#17becf' };

function plot(file: string, title: string, lines: Line[], target: { y: number; label: string }) {
  const svg = logLogSvg({
    title, xLabel: 'network calls (NFE)', yLabel: 'mean RMS error of x0',
    series: lines.map((l) => ({
      label: l.label, color: COLORS[l.solver] ?? '#7f7f7f', dashed: l.spacing !== 'linspace',
      points: sorted(l.byBudget.keys()).map((b) => [nfeAt(l, b), meanAt(l, b)] as [number, number]).filter(([, y]) => Number.isFinite(y) && y > 0),
    })),
    hline: target,
  });
  writeFileSync(path.join(outDir, file), svg);
}

async function main(): Promise<void> {
  // The exact model: one sweep, every scale.
  const exactJob: Job = {
    name: 'exact-gmm-3x32x32',
    argv: [
      '--model', EXACT_MODEL, '--solvers', EXACT_SOLVERS.join(','), '--spacing', EXACT_SPACINGS.join(','), '--nfe', EXACT_NFE.join(','), '--class', '1',
      '--classifier-scale', EXACT_SCALES.join(','), '--seeds', EXACT_SEEDS.join(','),
    ],
  };
  const readDoc = (name: string): SweepDocument => JSON.parse(readFileSync(path.join(outDir, `${name}.json`), 'utf8'));
  const exactDoc = RENDER_ONLY ? readDoc(exactJob.name) : await runJob(exactJob);

  // The default model: per prompt, one CFG sweep (every w) and one classifier-guidance sweep.
  const netJobs: (Job & { kind: 'cfg' | 'cls' })[] = [];
  for (const [i, p] of PROMPTS.entries()) {
    const common = ['--model', NET_MODEL, '--nfe', NET_NFE.join(','), '--prompt', p.prompt, '--seeds', NET_SEEDS.join(','), '--reference-steps', String(NET_REFERENCE_STEPS)];
    netJobs.push({ kind: 'cfg', name: `noto-cfg-prompt${i}`, argv: [...common, '--solvers', CFG_SOLVERS.join(','), '--guidance', CFG_SCALES.join(',')] });
    netJobs.push({
      kind: 'cls', name: `noto-classifier-prompt${i}`,
      argv: [...common, '--solvers', CLS_SOLVERS.join(','), '--guidance', '1', '--class', String(p.group), '--classifier-scale', String(NET_CLASSIFIER_SCALE)],
    });
  }
  const netDocs: SweepDocument[] = [];
  for (const job of netJobs) netDocs.push(RENDER_ONLY ? readDoc(job.name) : await runJob(job));
  const measured: Measured = RENDER_ONLY ? JSON.parse(readFileSync(path.join(outDir, 'run.json'), 'utf8')) : await measureRest(netJobs[0].argv, loadAtStart);
  if (!RENDER_ONLY) writeFileSync(path.join(outDir, 'run.json'), JSON.stringify(measured, null, 2) + '\n');
  timings.splice(0, timings.length, ...measured.timings);
  render(exactJob, exactDoc, netJobs, netDocs, measured);
  console.log(`wrote ${pagePath}; measured in ${measured.seconds.toFixed(1)} s of wall time, CPU time ${measured.cpuSeconds.toFixed(1)} s`);
}

interface Measured {
  /** Wall and CPU time of the measurement (the sweeps and the reference check), and the load around it. */
  seconds: number;
  cpuSeconds: number;
  loadAtStart: number;
  loadAtEnd: number;
  measuredAt: string;
  timings: { name: string; runs: number; seconds: number }[];
  checks: { setting: string; accuracy125: number; error125: number; accuracy250: number }[];
  checkSeconds: number;
  hashes: Record<string, string>;
  trainedSteps: string;
  modelDate: string;
  groups: string[];
}

/** The reference check and the model's provenance, after the sweeps; then the whole measurement's time. */
async function measureRest(firstNetArgv: string[], loadStart: number): Promise<Measured> {
  // How accurate is the network reference? Richardson with N = 125 against N = 250 (DDIM-500), on one prompt and seed per setting.
  const checkStarted = performance.now();
  const net = models.get(path.resolve(NET_MODEL))!;
  const checkArgs = parseSweep(firstNetArgv);
  const checkBase = sweepBase(checkArgs, net);
  const checks: { setting: string; accuracy125: number; error125: number; accuracy250: number }[] = [];
  const checkKeys = [...CFG_SCALES.map((guidance) => ({ guidance, classifierScale: 0 })), { guidance: 1, classifierScale: NET_CLASSIFIER_SCALE }];
  for (const k of checkKeys) {
    const base = { ...checkBase, classLabel: k.classifierScale > 0 ? PROMPTS[0].group : null };
    const noise = torchRandn(0, noiseShape(net, base.width, base.height));
    const request = { seed: 0, guidance: k.guidance, classifierScale: k.classifierScale, noise, base };
    const r1 = await richardsonReference(net, NET_REFERENCE_STEPS)(request);
    const r2 = await richardsonReference(net, 2 * NET_REFERENCE_STEPS)(request);
    checks.push({ setting: k.classifierScale > 0 ? `s = ${k.classifierScale}` : `w = ${k.guidance}`, accuracy125: r1.accuracy, error125: rmsError(r1.x, r2.x), accuracy250: r2.accuracy });
  }
  const checkSeconds = (performance.now() - checkStarted) / 1000;

  // Provenance of the network model measured.
  const hashes = await modelHashes(path.resolve(NET_MODEL));
  const studio = JSON.parse(readFileSync(path.join(NET_MODEL, 'studio.json'), 'utf8'));
  const trainedSteps = /(\d[\d,]*) steps in/.exec(studio.provenance?.diffusion ?? '')?.[1] ?? 'unknown';
  const cpu = process.cpuUsage();
  return {
    seconds: (performance.now() - started) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6, loadAtStart: loadStart, loadAtEnd: os.loadavg()[0],
    measuredAt: new Date().toISOString(), timings: [...timings], checks, checkSeconds, hashes, trainedSteps, modelDate: studio.provenance?.date ?? 'unknown',
    groups: studio.groups ?? [],
  };
}

function render(exactJob: Job, exactDoc: SweepDocument, netJobs: Job[], netDocs: SweepDocument[], measured: Measured): void {
  const lines: string[] = [];
  const push = (...l: string[]) => lines.push(...l);
  const { checks, checkSeconds, hashes, trainedSteps } = measured;
  // ---- the exact model ----
  const exactScales = sorted(exactDoc.runs.map((r) => r.classifierScale));
  const exactCrossings = new Map<number, Map<string, number | null>>();
  const exactTargets = new Map<number, number>();
  const exactDiverged = new Map<number, Map<string, number>>();
  let exactLines: Line[] = [];
  for (const s of exactScales) {
    const runs = exactDoc.runs.filter((r) => r.classifierScale === s);
    exactLines = linesOf(runs, EXACT_SOLVERS);
    const ddim = exactLines.find((l) => l.solver === 'ddim' && l.spacing === 'linspace')!;
    const target = meanAt(ddim, 250);
    exactTargets.set(s, target);
    exactCrossings.set(s, new Map(exactLines.map((l) => [l.label, crossing(l, target)])));
    exactDiverged.set(s, new Map(exactLines.map((l) => [l.label, [...l.byBudget.values()].flat().filter((r) => r.diverged).length])));
    plot(`exact-s${s}.svg`, `gmm-3x32x32, class 1, classifier scale s = ${s}: mean of ${EXACT_SEEDS.length} seeds`, exactLines, { y: target, label: `DDIM-250 ${e(target)}` });
  }
  const exactLabels = exactLines.map((l) => l.label);
  const exactRefs = exactDoc.references;

  // ---- the default model ----
  const allNet = netDocs.flatMap((d) => d.runs);
  const netRefs = netDocs.flatMap((d) => d.references);
  const settings = [
    ...CFG_SCALES.map((w) => ({ key: `w${w}`, title: `CFG w = ${w}`, guidance: w, classifierScale: 0, solvers: CFG_SOLVERS })),
    { key: `s${NET_CLASSIFIER_SCALE}`, title: `classifier guidance s = ${NET_CLASSIFIER_SCALE} (w = 1)`, guidance: 1, classifierScale: NET_CLASSIFIER_SCALE, solvers: CLS_SOLVERS },
  ];
  const netResults = settings.map((st) => {
    const runs = allNet.filter((r) => r.guidance === st.guidance && r.classifierScale === st.classifierScale);
    const refs = netRefs.filter((r) => r.guidance === st.guidance && r.classifierScale === st.classifierScale);
    // DDIM-250 against 2 DDIM(250) - DDIM(125) is |DDIM(250) - DDIM(125)|: the reference's own accuracy figure.
    const ddim250 = refs.map((r) => r.accuracy);
    const target = mean(ddim250);
    const ls = linesOf(runs, st.solvers);
    plot(`noto-${st.key}.svg`, `Noto Emoji 32, ${st.title}: mean of ${PROMPTS.length} prompts x ${NET_SEEDS.length} seeds`, ls, { y: target, label: `DDIM-250 ${e(target)}` });
    return { st, runs, refs, ddim250, target, lines: ls };
  });

  // ---- what the measurements say (every figure read from the tables below) ----
  const range = (values: number[]) => {
    const lo = Math.min(...values);
    const hi = Math.max(...values);
    return lo === hi ? String(lo) : `${lo} to ${hi}`;
  };
  const exactAt = (label: string) => exactScales.map((sc) => exactCrossings.get(sc)!.get(label)).filter((c): c is number => c !== null);
  const summary: string[] = ['## Summary', ''];
  summary.push(
    `- **Exact model** (s = ${exactScales.join(', ')}): LTSP-4 reaches DDIM-250's mean error at ${range(exactAt('ltsp4'))} network calls and STSP-4 at ${range(exactAt('stsp4'))},`
      + ` PLMS-4 at ${range(exactAt('plms4'))}, DPM-Solver++(2M) at ${range(exactAt('dpmpp2m'))} (${range(exactAt('dpmpp2m (logsnr)'))} on logsnr), UniPC-2 at ${range(exactAt('unipc2'))}`
      + ` (${range(exactAt('unipc2 (logsnr)'))} on logsnr); DDIM needs 250. Under strong guidance (s = ${exactScales.at(-1)}) PLMS-4 diverges in`
      + ` ${exactDiverged.get(exactScales.at(-1)!)!.get('plms4')} of its ${EXACT_NFE.length * EXACT_SEEDS.length} runs, STSP-4 in ${exactDiverged.get(exactScales.at(-1)!)!.get('stsp4')}, LTSP-4 in ${exactDiverged.get(exactScales.at(-1)!)!.get('ltsp4')}.`,
  );
  const maxNet = Math.max(...NET_NFE);
  const crossedAny = netResults.some((n) => n.lines.some((l) => l.solver !== 'ddim' && crossing(l, n.target) !== null));
  const lastBudget = Math.max(...NET_NFE);
  const bestAt = (n: (typeof netResults)[number], b: number) => [...n.lines].sort((a, c) => meanAt(a, b) - meanAt(c, b))[0];
  summary.push(
    `- **Default model** (3 prompts x 4 seeds per setting): ${crossedAny ? 'some solvers reach DDIM-250\'s mean error within the budgets (table below)' : `no solver reaches DDIM-250's mean error within ${maxNet} network calls, under any of the four settings`}.`
      + ` At ${lastBudget} calls the closest is ${netResults.map((n) => {
        const best = bestAt(n, lastBudget);
        return `${best.label} under ${n.st.title} (${(meanAt(best, lastBudget) / n.target).toFixed(1)}x DDIM-250's error)`;
      }).join(', ')}.`,
  );
  const stspVsDdim = (b: number) => netResults.map((n) => {
    const st = n.lines.find((l) => l.solver === 'stsp4')!;
    const dd = n.lines.find((l) => l.solver === 'ddim')!;
    return `${(meanAt(st, b) / meanAt(dd, b)).toFixed(2)} (${n.st.title})`;
  }).join(', ');
  summary.push(
    `- STSP-4 (the paper's Strang splitting) against DDIM at the same number of calls, ratio of mean errors: at ${NET_NFE[0]} calls ${stspVsDdim(NET_NFE[0])};`
      + ` at ${lastBudget} calls ${stspVsDdim(lastBudget)}. Below 1 is closer to the reference than DDIM.`,
  );
  const bestNames = [...new Set(netResults.flatMap((n) => NET_NFE.map((b) => bestAt(n, b).label)))];
  summary.push(`- The smallest mean error at every budget and setting on the default model is ${bestNames.join(' or ')}'s.`);
  for (const c of checks) {
    if (c.error125 >= c.accuracy125) {
      summary.push(
        `- Under ${c.setting} (prompt 0, seed 0) the reference is ${e(c.error125)} from the next Richardson level, no closer than DDIM-250 is to it (${e(c.accuracy125)}):`
          + ` there the reference cannot resolve errors as small as DDIM-250's, and a crossing, had one occurred, would not be meaningful; the errors of a few 1e-2 that every solver has at ${lastBudget} calls or fewer are several times larger than it.`,
      );
    }
  }
  for (const n of netResults) {
    const med = median(n.ddim250);
    const worst = n.refs.reduce((a, b) => (b.accuracy > a.accuracy ? b : a));
    if (worst.accuracy > 5 * med) {
      const docIndex = netDocs.findIndex((d) => d.references.includes(worst));
      summary.push(
        `- Under ${n.st.title} one prompt-seed pair ("${netDocs[docIndex].spec.prompt}", seed ${worst.seed}) has |DDIM(250) - DDIM(125)| = ${e(worst.accuracy)},`
          + ` ${(worst.accuracy / med).toFixed(0)} times the median (${e(med)}): DDIM has not settled there at 250 steps, and that pair pulls the mean target up.`,
      );
    }
  }
  summary.push('');

  const seconds = measured.seconds;
  const wall = `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  const cpuSeconds = measured.cpuSeconds;
  const load = `load average ${measured.loadAtStart.toFixed(1)} at the start, ${measured.loadAtEnd.toFixed(1)} at the end`;

  push(
    '# Benchmarks: network calls to reach DDIM-250\'s error',
    '',
    '<!-- Generated by `npm run docs:benchmarks` (tools/docs/benchmarks.ts); every number below is measured. -->',
    '',
    'Wizadwongsa & Suwajanakorn (ICLR 2023) report that under strong guidance the splitting solvers',
    '(LTSP, STSP) reach the quality of a 250-step DDIM with far fewer network calls. This page asks, per',
    'solver and guidance setting: **at how many network calls does the solver\'s mean RMS error first',
    'reach DDIM-250\'s?** (the error of the final x0 against an accurate solution of the same guided ODE',
    'from the same noise, `split-studio sweep`, docs/sweep.md).',
    '',
    'Regenerate everything on this page (sweeps, plots, tables) with one command:',
    '',
    '```',
    'npm run docs:benchmarks',
    '```',
    '',
    `Its sweeps and checks ran in **${wall}** of wall time (${measured.measuredAt.slice(0, 16).replace('T', ' ')} UTC) on this machine (2 CPU cores shared with other work, ${load}; ONNX Runtime on the CPU, one thread per`,
    `session), using ${cpuSeconds.toFixed(0)} s of CPU time: about the wall time it takes with one free core.`,
    'Each sweep below is a `split-studio sweep` command line run in-process by the generator through the',
    'CLI\'s own parsing, planning, sweep loop, reference and JSON writer; its JSON document is committed',
    'next to this page (without the per-step errors, which the CLI also writes, to keep the files small;',
    'the model folder is given relative to the repository). Running the command line with',
    '`--json FILE` writes the same document.',
    '',
    '| sweep | runs | seconds |',
    '|---|---|---|',
    ...timings.map((t) => `| [${t.name}.json](${rel(path.join(outDir, `${t.name}.json`))}) | ${t.runs} | ${t.seconds.toFixed(1)} |`),
    `| reference check (below) | 0 | ${checkSeconds.toFixed(1)} |`,
    '',
    'The rule, the same as docs/sweep.md\'s: per solver, grid, guidance setting and budget, the mean of',
    'the runs\' RMS errors over the seeds (and prompts); a budget is a number of network calls, each',
    'solver getting the most steps that fit (`--nfe`). The crossing is the smallest budget in the list',
    'at which that mean is at most DDIM-250\'s mean error; "not within N" when no budget up to N reaches',
    'it. A run whose x0 is not finite counts as an infinite error.',
    '',
    ...summary,
    '## 1. The exact model: gmm-3x32x32, class 1',
    '',
    'The closed-form Gaussian mixture `resources/exact/gmm-3x32x32`, classifier guidance toward class 1',
    `at s = ${exactScales.join(', ')}, seeds ${EXACT_SEEDS.join(', ')}, against the closed-form RK4 reference (2000 steps, float64).`,
    `Its accuracy (the RMS change from halving its steps), over the ${exactRefs.length} references: median`,
    `${e(median(exactRefs.map((r) => r.accuracy)))}, at most ${e(Math.max(...exactRefs.map((r) => r.accuracy)))}. The paper's solvers walk the paper's linspace grid;`,
    'DPM-Solver++(2M) and UniPC-2 walk their diffusers grid for linspace and also the logsnr grid,',
    'their best on this model in docs/solvers.md (dashed in the plots).',
    '',
    '```',
    `$ ${command(exactJob.argv)} --json ${exactJob.name}.json`,
    '```',
    '',
    `Network calls at which the mean RMS error over the ${EXACT_SEEDS.length} seeds first reaches DDIM-250's (budgets ${EXACT_NFE.join(', ')}):`,
    '',
    `| solver | ${exactScales.map((s) => `s = ${s}`).join(' | ')} |`,
    `|---|${exactScales.map(() => '---').join('|')}|`,
    ...exactLabels.map((label) => `| ${label} | ${exactScales.map((s) => {
      const c = exactCrossings.get(s)!.get(label);
      return c === null ? `not within ${Math.max(...EXACT_NFE)}` : String(c);
    }).join(' | ')} |`),
    `| *DDIM-250's mean RMS error* | ${exactScales.map((s) => e(exactTargets.get(s)!)).join(' | ')} |`,
    '',
    `Runs flagged as diverged (RMS error above 1 or a non-finite x0), out of ${EXACT_NFE.length * EXACT_SEEDS.length} per solver and scale:`,
    '',
    `| solver | ${exactScales.map((s) => `s = ${s}`).join(' | ')} |`,
    `|---|${exactScales.map(() => '---').join('|')}|`,
    ...exactLabels.map((label) => `| ${label} | ${exactScales.map((s) => exactDiverged.get(s)!.get(label)).join(' | ')} |`),
    '',
    ...exactScales.flatMap((s) => [`![error against network calls, exact model, s = ${s}](${rel(path.join(outDir, `exact-s${s}.svg`))})`, '']),
  );

  // Sentences read from the tables above (exact model).
  const exactFacts: string[] = [];
  for (const s of exactScales) {
    const c = exactCrossings.get(s)!;
    const parts = exactLabels.filter((l) => l !== 'ddim').map((l) => `${l} ${c.get(l) ?? `>${Math.max(...EXACT_NFE)}`}`);
    exactFacts.push(`- s = ${s}: ${parts.join(', ')} network calls, against 250 for DDIM.`);
  }
  push('Read from the table (each figure is the first budget in the list that reaches DDIM-250\'s mean error):', '', ...exactFacts, '');

  // ---- default model section ----
  push(
    '## 2. The default model: Noto Emoji 32',
    '',
    `The embedded default model \`${NET_MODEL}\` (a 32x32 text-conditioned pixel UNet), as measured here:`,
    `UNet \`${MAIN_MODEL_FILE}\` sha256 \`${hashes[MAIN_MODEL_FILE]}\` (model hash ${hashes[MAIN_MODEL_FILE]?.slice(0, 10)}),`,
    `trained ${trainedSteps} steps (studio.json provenance, dated ${measured.modelDate}).`,
    `Other network files (sha256, first 10 digits): ${Object.entries(hashes).filter(([f]) => f !== MAIN_MODEL_FILE).map(([f, h]) => `\`${f}\` ${h.slice(0, 10)}`).join(', ')}.`,
    'A retrained export changes these figures: rerun `npm run docs:benchmarks`.',
    '',
    `Prompts (the class of classifier guidance is the prompt's emoji group): ${PROMPTS.map((p) => `"${p.prompt}" (class ${p.group}, ${measured.groups[p.group] ?? '?'})`).join('; ')};`,
    `seeds ${NET_SEEDS.join(', ')}; CFG w = ${CFG_SCALES.join(', ')} (the default \`--condition-at same-point\` placement: one batch-2 call per step`,
    `for the splitting solvers, so LTSP-4 is STSP-4 there (docs/solvers.md; \`split-studio sweep --solvers ltsp4,stsp4 --nfe 10,20 --guidance 5\``,
    `\`--prompt "${PROMPTS[0].prompt}" --seeds 0\` gives the two the same errors) and runs under classifier guidance only), and classifier guidance`,
    `s = ${NET_CLASSIFIER_SCALE} toward the prompt's group with w = 1. Budgets ${NET_NFE.join(', ')} network calls: each call costs milliseconds here,`,
    'so the list is short to keep the page a one-command rerun.',
    '',
    '```',
    ...netJobs.map((j) => `$ ${command(j.argv)} --json ${j.name}.json`),
    '```',
    '',
    '### The reference and DDIM-250',
    '',
    `The reference is Richardson-extrapolated DDIM, 2 DDIM(${2 * NET_REFERENCE_STEPS}) - DDIM(${NET_REFERENCE_STEPS}) (\`--reference-steps ${NET_REFERENCE_STEPS}\`, ${3 * NET_REFERENCE_STEPS} calls),`,
    'so its finer half is DDIM-250 itself. DDIM-250\'s distance from it is then exactly',
    `|DDIM(${2 * NET_REFERENCE_STEPS}) - DDIM(${NET_REFERENCE_STEPS})|, the accuracy figure the sweep prints for the reference: DDIM-250's error is read`,
    'from the references (`references[].accuracy` in the JSON) rather than run again, and DDIM\'s crossing is 250',
    'by construction. That figure estimates DDIM-250\'s own error to first order; the extrapolation itself is',
    'more accurate. How much more, measured on prompt 0, seed 0 against the next Richardson level',
    `2 DDIM(${4 * NET_REFERENCE_STEPS}) - DDIM(${2 * NET_REFERENCE_STEPS}):`,
    '',
    `| setting | DDIM-250 vs the reference (= \\|DDIM(${2 * NET_REFERENCE_STEPS}) - DDIM(${NET_REFERENCE_STEPS})\\|) | the reference vs the next level | \\|DDIM(${4 * NET_REFERENCE_STEPS}) - DDIM(${2 * NET_REFERENCE_STEPS})\\| |`,
    '|---|---|---|---|',
    ...checks.map((c) => `| ${c.setting} | ${e(c.accuracy125)} | ${e(c.error125)} | ${e(c.accuracy250)} |`),
    '',
  );
  const refLine = (rs: { accuracy: number }[]) => `median ${e(median(rs.map((r) => r.accuracy)))} (${e(Math.min(...rs.map((r) => r.accuracy)))} to ${e(Math.max(...rs.map((r) => r.accuracy)))})`;
  push(
    `DDIM-250's error against the reference, per setting over the ${PROMPTS.length * NET_SEEDS.length} prompt-seed pairs: ${netResults.map((n) => `${n.st.title}: mean ${e(n.target)}, ${refLine(n.refs)}`).join('; ')}.`,
    '',
    '### Crossings',
    '',
    `Network calls at which the mean RMS error over ${PROMPTS.length} prompts x ${NET_SEEDS.length} seeds first reaches DDIM-250's:`,
    '',
    `| solver | ${netResults.map((n) => n.st.title).join(' | ')} |`,
    `|---|${netResults.map(() => '---').join('|')}|`,
    ...CLS_SOLVERS.map((solver) => `| ${solver} | ${netResults.map((n) => {
      if (solver === 'ddim') return '250 (by construction)';
      const line = n.lines.find((l) => l.solver === solver);
      if (!line) return '(= stsp4)';
      const c = crossing(line, n.target);
      return c === null ? `not within ${Math.max(...NET_NFE)}` : String(c);
    }).join(' | ')} |`),
    `| *DDIM-250's mean RMS error* | ${netResults.map((n) => e(n.target)).join(' | ')} |`,
    '',
  );
  for (const n of netResults) {
    push(
      `### ${n.st.title}`,
      '',
      `Mean RMS error (median in brackets) over ${PROMPTS.length * NET_SEEDS.length} runs per cell; the last column is the smallest of the`,
      `budgets ${NET_NFE.join(', ')} whose mean reaches DDIM-250's (${e(n.target)}).`,
      '',
      `| solver | ${NET_NFE.map((b) => `${b} NFE`).join(' | ')} | diverged | crossing |`,
      `|---|${NET_NFE.map(() => '---').join('|')}|---|---|`,
      ...n.lines.map((l) => {
        const cells = NET_NFE.map((b) => {
          const runs = l.byBudget.get(b)!;
          return `${e(mean(runs.map(errorOf)))} (${e(median(runs.map(errorOf)))})`;
        });
        const c = crossing(l, n.target);
        const diverged = [...l.byBudget.values()].flat().filter((r) => r.diverged).length;
        const crossed = l.solver === 'ddim' ? '250 (by construction)' : c === null ? `not within ${Math.max(...NET_NFE)}` : String(c);
        return `| ${l.label} | ${cells.join(' | ')} | ${diverged} | ${crossed} |`;
      }),
      '',
      `![error against network calls, default model, ${n.st.title}](${rel(path.join(outDir, `noto-${n.st.key}.svg`))})`,
      '',
    );
  }
  // Error at the table budgets, across settings, for the sentences.
  push('### Error at 10, 15 and 20 network calls, best solver per setting', '');
  for (const n of netResults) {
    const parts = TABLE_NFE.map((b) => {
      const best = [...n.lines].sort((a, c) => meanAt(a, b) - meanAt(c, b))[0];
      const ddim = n.lines.find((l) => l.solver === 'ddim')!;
      return `${b} calls: ${best.label} ${e(meanAt(best, b))} (DDIM ${e(meanAt(ddim, b))})`;
    });
    push(`- ${n.st.title}: ${parts.join('; ')}.`);
  }
  push('');
  push(
    '## Scope',
    '',
    '- Errors are RMS differences of the final x0 in model space, as `split-studio sweep` reports them.',
    '- On the default model the reference is itself an extrapolation of the baseline: the table above',
    '  says how far it is from the next Richardson level, which bounds what a crossing at DDIM-250\'s',
    '  error can mean there.',
    `- Budgets are a short list (${NET_NFE.join(', ')} calls on the default model): a crossing between two listed`,
    '  budgets is reported at the larger one.',
    '',
  );

  writeFileSync(pagePath, lines.join('\n'));
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
