/**
 * `split-studio sweep`: every combination of solver, grid, steps (or network-call budget),
 * guidance and seed on one model, opened once, each run measured against a reference solution of
 * its guided ODE (src/main/core/lab). A table line per run on stdout as it finishes; --csv and
 * --json files at the end (docs/sweep.md). Ctrl+C stops after the run in progress and writes what
 * finished; a second Ctrl+C aborts that run too.
 */
import { DEFAULT_CLASSIFIER_SCALE, DEFAULT_CONDITION_AT, DEFAULT_CONSISTENCY_SCALE, SPACINGS, type SpacingName } from '../shared/settings';
import type { Settings } from '../shared/contract';
import { SETTINGS_LIMITS as LIMITS, type NumberLimits } from '../shared/settingsFields';
import { CONDITION_PLACEMENTS, SOLVER_IDS } from '../shared/solvers';
import { CancelledError } from '../main/core/engine/model';
import { SettingsError } from '../main/core/engine/errors';
import { type SweepSpec, SweepPlanError, planSweep } from '../main/core/lab/plan';
import { DEFAULT_REFERENCE_STEPS, type ReferenceSolver, exactMixture, exactReference, referenceKeyOf, reusingReference, richardsonReference } from '../main/core/lab/reference';
import { ENGINE_VERSION } from '../main/core/gallery/fingerprint';
import { modelHashes } from '../main/core/models/modelHashes';
import type { Pipeline } from '../main/core/pipelines/pipeline';
import { referenceLine, sweepCsv, sweepDocument, sweepJson, tableHeader, tableLine } from '../main/core/lab/report';
import { SweepStore } from '../main/core/lab/store';
import { type SweepOutcome, noiseShape, runSweep } from '../main/core/lab/sweep';
import { TrajectoryWriter, checkTrajectoryDir } from './trajectory';
import { ensureDataDir } from '../main/core/dataDir';
import { defaultModelDir } from '../main/core/models/catalog';
import { type CommandSpec, type ParsedFlags, UsageError, choiceFlag, numberFlag, parseCommand, stringFlag } from './args';
import { checkOutputPath, checkSettings, modelFolder, openModel, providersFlag, refusalLine, stageFile } from './run';

export const SWEEP_USAGE = `usage: split-studio sweep --solvers A,B,... (--steps 5,10,20 | --nfe 10,20,40) [options]
  every combination on one model, each measured against a reference (docs/sweep.md)

  --model DIR              model folder (default: the embedded default model)
  --solvers A,B,...        ${SOLVER_IDS.join(', ')}
  --steps N,...            step counts, or
  --nfe N,...              network-call budgets: each solver gets the most steps whose calls fit
  --spacing A,...          ${SPACINGS.join(', ')} (default: the model's; pairs a solver cannot use are skipped)
  --guidance W,...         classifier-free guidance scales (default: the model's, else 1)
  --class K                --classifier-scale S,...   classifier guidance (default scale ${DEFAULT_CLASSIFIER_SCALE})
  --prompt TEXT            --seeds S,...  (default 0)
  --reference-steps N      network models: N of 2 DDIM(2N) - DDIM(N) (default ${DEFAULT_REFERENCE_STEPS})
  --condition-at ${CONDITION_PLACEMENTS.join('|')}   --width W   --height H   --provider cuda,dml,cpu
  --csv FILE               --json FILE
  --trajectory DIR         every step's x0 prediction of every run as .npy files (DIR new or empty)
  --no-save                do not keep the sweep in the data folder (split-studio sweeps lists the kept ones)`;

export const SWEEP: CommandSpec = {
  help: SWEEP_USAGE,
  values: [
    'model', 'solvers', 'steps', 'nfe', 'spacing', 'guidance', 'class', 'classifier-scale', 'prompt', 'seeds', 'reference-steps', 'condition-at',
    'width', 'height', 'provider', 'csv', 'json', 'trajectory',
  ],
  switches: ['no-save'],
};

/** A comma-separated flag's items; an empty list or item is a one-line UsageError, and so is an item given twice. */
export function listFlag(flags: ParsedFlags, name: string): string[] | undefined {
  const raw = stringFlag(flags, name);
  if (raw === undefined) return undefined;
  const items = raw.split(',').map((s) => s.trim());
  if (items.every((s) => s === '')) throw new UsageError(`--${name} is empty; give a comma-separated list`);
  if (items.some((s) => s === '')) throw new UsageError(`--${name} has an empty item: "${raw}"`);
  const twice = items.find((s, i) => items.indexOf(s) !== i);
  if (twice !== undefined) throw new UsageError(`--${name} lists ${twice} twice`);
  return items;
}

/** A list of numbers, each checked like the single flag (--steps 5,x: "--steps must be a number, got "x""). */
export function numberListFlag(flags: ParsedFlags, name: string, limits: NumberLimits): number[] | undefined {
  const items = listFlag(flags, name);
  if (!items) return undefined;
  const values = items.map((item) => numberFlag(new Map([[name, item]]), name, limits)!);
  const twice = values.find((v, i) => values.indexOf(v) !== i);
  if (twice !== undefined) throw new UsageError(`--${name} lists ${twice} twice`);
  return values;
}

const NFE_LIMITS: NumberLimits = { integer: true, min: 1, max: 3 * LIMITS.steps.max };

/** The sweep's arguments, checked, and the model folder they name: everything before a model is opened. */
export function parseSweep(argv: string[]) {
  const { flags } = parseCommand(argv, SWEEP);
  const modelDir = stringFlag(flags, 'model') ?? defaultModelDir();
  if (!modelDir) throw new UsageError('no --model given and no embedded default model is installed');
  const solvers = listFlag(flags, 'solvers');
  if (!solvers) throw new UsageError(`sweep needs --solvers, e.g. --solvers stsp4,ddim (choose from ${SOLVER_IDS.join(', ')})`);
  const unknown = solvers.find((s) => !SOLVER_IDS.includes(s));
  if (unknown !== undefined) throw new UsageError(`unknown solver "${unknown}"; choose from: ${SOLVER_IDS.join(', ')}`);
  if (flags.has('steps') && flags.has('nfe')) throw new UsageError('--steps and --nfe both size the runs; give one or the other');
  const steps = numberListFlag(flags, 'steps', LIMITS.steps);
  const nfe = numberListFlag(flags, 'nfe', NFE_LIMITS);
  if (!steps && !nfe) throw new UsageError('sweep needs --steps N,... or --nfe N,...');
  const spacingItems = listFlag(flags, 'spacing');
  const badSpacing = spacingItems?.find((s) => !(SPACINGS as readonly string[]).includes(s));
  if (badSpacing !== undefined) throw new UsageError(`--spacing must list names from ${SPACINGS.join(', ')}, got "${badSpacing}"`);
  const classLabel = numberFlag(flags, 'class', LIMITS.classLabel) ?? null;
  const scales = numberListFlag(flags, 'classifier-scale', LIMITS.classifierScale);
  if (scales && classLabel === null) throw new UsageError('--classifier-scale needs --class K (the class to guide toward)');
  const seeds = numberListFlag(flags, 'seeds', LIMITS.seed) ?? [0];
  const referenceSteps = numberFlag(flags, 'reference-steps', { integer: true, min: 3, max: LIMITS.steps.max / 2 });
  const conditionAt = choiceFlag(flags, 'condition-at', CONDITION_PLACEMENTS) ?? DEFAULT_CONDITION_AT;
  const prompt = stringFlag(flags, 'prompt') ?? '';
  if (prompt.length > LIMITS.prompt.maxLength) throw new UsageError(`--prompt must be at most ${LIMITS.prompt.maxLength} characters long, got ${prompt.length}`);
  const outputs = { csv: stringFlag(flags, 'csv'), json: stringFlag(flags, 'json') };
  if (outputs.csv !== undefined && outputs.csv === outputs.json) throw new UsageError('--csv and --json name the same file');
  if (outputs.csv !== undefined) checkOutputPath(outputs.csv, '--csv');
  if (outputs.json !== undefined) checkOutputPath(outputs.json, '--json');
  const trajectory = stringFlag(flags, 'trajectory');
  if (trajectory !== undefined) checkTrajectoryDir(trajectory);

  const folder = modelFolder(modelDir);
  const d = folder.defaults;
  if (classLabel !== null && !folder.classLabels) throw new UsageError(`${folder.name} has no classifier, so --class cannot be used`);
  if (classLabel !== null && classLabel >= folder.classLabels!.length) {
    throw new UsageError(`--class ${classLabel} is out of range: ${folder.name} has classes 0..${folder.classLabels!.length - 1}`);
  }
  // The same refusal the engine would make, but before the model is opened and the first reference is solved.
  if (prompt !== '' && !folder.textEncoderPath) throw new UsageError(`--prompt: ${folder.name} has no text encoder, so a prompt cannot be used`);
  const gmm = exactMixture(folder.dir);
  const guidances = numberListFlag(flags, 'guidance', LIMITS.guidance) ?? [gmm ? 1 : (d.guidance ?? 1)];
  if (gmm && guidances.some((w) => w !== 1)) throw new UsageError(`${folder.name} is an exact model with no unconditional branch: --guidance must be 1 (use --class and --classifier-scale)`);
  if (gmm && referenceSteps !== undefined) throw new UsageError(`--reference-steps applies to network models; ${folder.name} is measured against its closed form`);
  const spec: SweepSpec = {
    solvers,
    budget: steps ? { kind: 'steps', values: steps } : { kind: 'nfe', values: nfe! },
    spacings: (spacingItems as SpacingName[] | undefined) ?? [folder.scheduler.timestepSpacing as SpacingName],
    guidances,
    classLabel,
    classifierScales: scales ?? [classLabel === null ? 0 : (d.classifierScale ?? DEFAULT_CLASSIFIER_SCALE)],
    prompt,
    seeds,
    conditionAt,
  };
  let plan;
  try {
    plan = planSweep(spec);
  } catch (error) {
    if (error instanceof SweepPlanError) throw new UsageError(error.message);
    throw error;
  }
  return {
    flags, folder, gmm, spec, plan, outputs, trajectory, referenceSteps: referenceSteps ?? DEFAULT_REFERENCE_STEPS,
    width: numberFlag(flags, 'width', LIMITS.width) ?? d.width, height: numberFlag(flags, 'height', LIMITS.height) ?? d.height,
  };
}

export type SweepArgs = ReturnType<typeof parseSweep>;

/** What every run of the sweep shares (the plan fills in solver, steps, grid, seed and scales). */
export function sweepBase(args: SweepArgs, model: Pipeline): Settings {
  const { spec, plan } = args;
  return checkSettings({
    task: 'txt2img', prompt: spec.prompt, negativePrompt: '', classLabel: spec.classLabel, classifierScale: spec.classifierScales[0], solver: plan.runs[0].solver,
    steps: plan.runs[0].steps, guidance: spec.guidances[0], conditionAt: spec.conditionAt, consistencyScale: DEFAULT_CONSISTENCY_SCALE, seed: spec.seeds[0],
    width: args.width ?? model.image.width ?? 64, height: args.height ?? model.image.height ?? 64, spacing: plan.runs[0].spacing, clipX0: null, strength: 1,
  });
}

/** The reference the sweep measures against: the closed form on exact models, Richardson DDIM on network ones. */
export function sweepReference(args: SweepArgs, model: Pipeline): ReferenceSolver {
  return args.gmm ? exactReference(args.gmm) : richardsonReference(model, args.referenceSteps);
}

/** Runs the sweep; returns the exit code (0 complete, 130 stopped by Ctrl+C). */
export async function sweepCommand(argv: string[]): Promise<number> {
  const args = parseSweep(argv);
  const { folder, gmm, spec, plan, outputs } = args;
  const model = await openModel(folder, providersFlag(args.flags));
  const base = sweepBase(args, model);
  const trajectoryWriter = args.trajectory === undefined ? undefined : new TrajectoryWriter(args.trajectory, noiseShape(model, base.width, base.height), plan.runs.length);
  const runIndex = new Map(plan.runs.map((r, i) => [r as object, i]));
  for (const line of plan.skipped) process.stderr.write(`split-studio: skipped ${line}\n`);
  process.stdout.write(`# ${plan.runs.length} runs on ${folder.name} (${model.provider}); divergence: non-finite x0 or RMS error > 1\n${tableHeader()}\n`);

  // Ctrl+C once: finish the run in progress, then write what finished. Twice: abort that run.
  let stopRequested = false;
  const controller = new AbortController();
  const onInterrupt = () => {
    if (stopRequested) return controller.abort();
    stopRequested = true;
    process.stderr.write('split-studio: stopping after the current run (Ctrl+C again to abort it)\n');
  };
  process.on('SIGINT', onInterrupt);
  const finished: SweepOutcome = { records: [], references: [], complete: false };
  // Network models' references are kept in the data folder and reused by later sweeps of the
  // same guided ODE (--no-save: neither read nor kept); the closed form is cheaper than a lookup.
  const keeper = !gmm && !args.flags.has('no-save') ? openSweepStore() : undefined;
  try {
    const solve = sweepReference(args, model);
    const reference = keeper ? reusingReference(solve, referenceKeyOf(await modelHashes(folder.dir), ENGINE_VERSION, args.referenceSteps), (k) => keeper.reference(k), (k, r) => keeper.saveReference(k, r)) : solve;
    const outcome = await runSweep({
      pipeline: model, runs: plan.runs, base,
      reference,
      onReference: (r) => {
        finished.references.push(r);
        process.stdout.write(`# ${referenceLine(r)}\n`);
      },
      onRecord: (r, index) => {
        finished.records.push(r);
        trajectoryWriter?.finishRun(r, index);
        process.stdout.write(tableLine(r) + '\n');
      },
      onStep: trajectoryWriter ? (index, progress) => trajectoryWriter.step(index, plan.runs[index], progress) : undefined,
      // --trajectory also writes each run's result and each reference: the pictures the sweep
      // hands over to keep; none is kept in the document (undefined).
      keepPicture: trajectoryWriter
        ? (of, picture) => {
            const index = 'solver' in of ? runIndex.get(of) : undefined;
            if (index !== undefined) trajectoryWriter.final(index, picture);
            else if (!('solver' in of)) trajectoryWriter.reference(of, picture);
            return undefined;
          }
        : undefined,
      shouldStop: () => stopRequested,
      signal: controller.signal,
    });
    finished.complete = outcome.complete;
  } catch (error) {
    if (error instanceof SettingsError) throw new UsageError(refusalLine(error));
    if (!(error instanceof CancelledError)) throw error;
  } finally {
    process.removeListener('SIGINT', onInterrupt);
    keeper?.close();
  }
  const { records } = finished;
  const diverged = records.filter((r) => r.diverged).length;
  process.stdout.write(`# ${records.length} of ${plan.runs.length} runs, ${diverged} diverged\n`);
  const doc = sweepDocument({
    model: { name: folder.name, dir: folder.dir, kind: gmm ? 'exact' : 'network' }, spec, references: finished.references, runs: records,
    complete: finished.complete, plannedRuns: plan.runs.length,
  });
  if (outputs.csv !== undefined) stageFile(outputs.csv, new TextEncoder().encode(sweepCsv(records)), '--csv').commit();
  if (outputs.json !== undefined) stageFile(outputs.json, new TextEncoder().encode(sweepJson(doc)), '--json').commit();
  trajectoryWriter?.writeIndex(folder.name);
  if (!args.flags.has('no-save') && records.length > 0) {
    const store = openSweepStore();
    try {
      process.stdout.write(`# saved as sweep ${store.save(doc)} (split-studio sweeps show ID)\n`);
    } finally {
      store.close();
    }
  }
  if (finished.complete) return 0;
  process.stderr.write(`split-studio: stopped after ${records.length} of ${plan.runs.length} runs${outputs.csv || outputs.json ? '; wrote what finished' : ''}\n`);
  return 130;
}

export const SWEEPS_USAGE = `usage: split-studio sweeps [list] [--json]          the kept sweeps, newest first
       split-studio sweeps show ID [--csv FILE] [--json FILE]   one again: its table, and its files`;

const SWEEPS_LIST: CommandSpec = { help: SWEEPS_USAGE, switches: ['json'] };
const SWEEPS_SHOW: CommandSpec = { help: SWEEPS_USAGE, values: ['csv', 'json'] };

function openSweepStore(): SweepStore {
  try {
    return SweepStore.open(ensureDataDir());
  } catch (error) {
    throw new UsageError(`data folder: ${(error as Error).message.split('\n')[0]}`);
  }
}

/** `split-studio sweeps`: the sweeps kept in the data folder, listed or shown again. */
export function sweepsCommand(argv: string[]): void {
  const [sub = 'list', ...rest] = argv[0]?.startsWith('-') ? ['list', ...argv] : argv;
  if (sub === 'list') {
    const { flags } = parseCommand(rest, SWEEPS_LIST);
    const store = openSweepStore();
    try {
      const all = store.list();
      if (flags.has('json')) return void process.stdout.write(JSON.stringify(all) + '\n');
      for (const w of all) {
        process.stdout.write(`#${w.id}  ${w.createdAt.slice(0, 16).replace('T', ' ')}  ${w.modelName}  ${w.runs}${w.complete ? '' : ` of ${w.plannedRuns}`} runs, ${w.diverged} diverged\n`);
      }
      process.stdout.write(`sweeps: ${all.length}\n`);
    } finally {
      store.close();
    }
    return;
  }
  if (sub !== 'show') throw new UsageError(`unknown sweeps command "${sub}" (list, show)`);
  const [idText, ...options] = rest;
  const id = Number(idText);
  if (!idText || !Number.isInteger(id) || id < 1) throw new UsageError(`sweeps show needs a sweep id, got "${idText ?? ''}"`);
  const { flags } = parseCommand(options, SWEEPS_SHOW);
  const csv = stringFlag(flags, 'csv');
  const json = stringFlag(flags, 'json');
  const store = openSweepStore();
  try {
    const doc = store.get(id);
    if (!doc) throw new UsageError(`there is no sweep ${id} (split-studio sweeps lists them)`);
    process.stdout.write(`# sweep ${id}: ${doc.runs.length} of ${doc.plannedRuns} runs on ${doc.model.name}\n${tableHeader()}\n`);
    for (const r of doc.references) process.stdout.write(`# ${referenceLine(r)}\n`);
    for (const r of doc.runs) process.stdout.write(tableLine(r) + '\n');
    if (csv !== undefined) stageFile(checkOutputPath(csv, '--csv'), new TextEncoder().encode(sweepCsv(doc.runs)), '--csv').commit();
    if (json !== undefined) stageFile(checkOutputPath(json, '--json'), new TextEncoder().encode(sweepJson(doc)), '--json').commit();
  } finally {
    store.close();
  }
}
