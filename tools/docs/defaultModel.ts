/**
 * `npm run docs:default-model`: measures the embedded default model and writes
 * docs/default-model.md with a contact sheet (docs/default-model-contact-sheet.png):
 *  - the 24 evaluation prompts "<emoji name> on a <colour> background" (tools/train/judge/
 *    eval_prompts.json, held-out emoji included) x 4 seeds, at the default settings, with DDIM-50,
 *    and with classifier guidance toward the prompt's group (s = 10);
 *  - each sample judged by the independent group judge (tools/train/judge, never used for
 *    guidance) and by the colour of its border;
 *  - the CLI's wall time for the command (median of 5 runs, process start included).
 * Every number in the page is measured by this script.
 */
import { spawnSync } from 'node:child_process';
import * as ort from 'onnxruntime-node';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_CONDITION_AT, type Settings } from '../../src/shared/settings';
import { startingSpacing } from '../../src/shared/modelSettings';
import { expectedCost, termsOf } from '../../src/shared/solvers';
import { torchRandn } from '../../src/main/core/engine/noise/torchRandn';
import { sample } from '../../src/main/core/engine/sampler';
import { encodePng } from '../../src/main/core/io/png';
import { appRoot, defaultModelDir } from '../../src/main/core/models/catalog';
import { readModelFolder } from '../../src/main/core/models/modelFolder';
import { tensorToImage } from '../../src/main/core/pipelines/images';
import { OnnxClassifier } from '../../src/main/core/pipelines/classifier';
import { type PixelPipeline, openPixelPipeline } from '../../src/main/core/pipelines/pixel';
import { OnnxNoisePredictor } from '../../src/main/core/pipelines/unet';
import { blit } from './tileSheet';

const root = appRoot();

function baseSettings(model: PixelPipeline): Settings {
  const d = model.folder.defaults;
  const solver = d.solver ?? 'split-pc3';
  return {
    task: 'txt2img', prompt: '', negativePrompt: '', classLabel: null, classifierScale: 0, solver, steps: d.steps ?? 20,
    guidance: d.guidance ?? 4, conditionAt: DEFAULT_CONDITION_AT, consistencyScale: 0, seed: 0, width: 32, height: 32,
    spacing: startingSpacing(solver, d.spacing, model.folder.scheduler.timestepSpacing), clipX0: null, strength: 1,
  };
}

/** 24 prompts x 4 seeds at the default settings: two prompts per row, four seeds each. */
async function contactSheet(model: PixelPipeline, evalSet: EvalSet, seeds: number[]): Promise<{ ms: number[] }> {
  const scale = 2;
  const tile = 32 * scale;
  const gap = 3;
  const mid = 14;
  const perRow = 2;
  const cols = seeds.length;
  const width = perRow * cols * (tile + gap) + (perRow - 1) * mid;
  const rows = Math.ceil(evalSet.prompts.length / perRow);
  const height = rows * (tile + gap);
  const sheet = new Uint8Array(width * height * 4).fill(24);
  const ms: number[] = [];
  for (let i = 0; i < evalSet.prompts.length; i++) {
    for (let c = 0; c < cols; c++) {
      const result = await model.generate({ ...baseSettings(model), prompt: evalSet.prompts[i].prompt, seed: seeds[c] });
      ms.push(result.samplingMs);
      blit(sheet, width, result.image, (i % perRow) * (cols * (tile + gap) + mid) + c * (tile + gap), Math.floor(i / perRow) * (tile + gap), scale);
    }
  }
  writeFileSync(path.join(root, 'docs', 'default-model-contact-sheet.png'), encodePng({ width, height, channels: 4, data: sheet }));
  return { ms };
}

/** The 24 evaluation prompts (tools/train/make_eval_prompts.py) and the palette of backgrounds. */
interface EvalSet {
  groups: string[];
  backgrounds: Record<string, [number, number, number]>;
  prompts: { prompt: string; name: string; group: number; background: string; held_out: boolean }[];
}

/** Final samples (model space, [-1, 1]) for `seeds` of one setting, in one batched run. */
async function samples(model: PixelPipeline, classifier: OnnxClassifier, settings: Settings, seeds: number[], label: number | null): Promise<Float32Array> {
  const rows = seeds.length;
  const shape = { channels: 3, height: 32, width: 32 };
  const initial = new Float32Array(rows * 3 * 32 * 32);
  seeds.forEach((s, i) => initial.set(torchRandn(s, [1, 3, 32, 32]), i * 3072));
  const text = await model.encodePrompts(settings, []);
  const result = await sample({
    predictor: new OnnxNoisePredictor(model.unet, model.signature, shape, text),
    classifier,
    scheduler: model.folder.scheduler,
    shape,
    rows,
    solver: settings.solver,
    steps: settings.steps,
    guidance: { cfg: settings.guidance, ...(label !== null ? { classifier: { scale: settings.classifierScale, labels: seeds.map(() => label) } } : {}) },
    conditionAt: settings.conditionAt,
    initial,
  });
  return result.x;
}

/** The independent judge (tools/train/train_judge.py): group argmax of each sample. */
async function judgeGroups(judge: ort.InferenceSession, x: Float32Array, rows: number): Promise<number[]> {
  const clipped = x.map((v) => Math.max(-1, Math.min(1, v)));
  const out = await judge.run({ image: new ort.Tensor('float32', clipped, [rows, 3, 32, 32]) });
  const logits = out.logits.data as Float32Array;
  const K = logits.length / rows;
  return Array.from({ length: rows }, (_, r) => {
    let best = 0;
    for (let k = 1; k < K; k++) if (logits[r * K + k] > logits[r * K + best]) best = k;
    return best;
  });
}

/** The palette colour nearest to the mean of each sample's outer two-pixel ring. */
function borderColours(x: Float32Array, rows: number, palette: EvalSet['backgrounds']): string[] {
  const names = Object.keys(palette);
  return Array.from({ length: rows }, (_, r) => {
    const mean = [0, 0, 0];
    let n = 0;
    for (let y = 0; y < 32; y++) {
      for (let xx = 0; xx < 32; xx++) {
        if (y >= 2 && y < 30 && xx >= 2 && xx < 30) continue;
        for (let c = 0; c < 3; c++) mean[c] += ((Math.max(-1, Math.min(1, x[r * 3072 + c * 1024 + y * 32 + xx])) + 1) / 2) * 255;
        n++;
      }
    }
    const m = mean.map((v) => v / n);
    let best = names[0];
    let bestDistance = Infinity;
    for (const name of names) {
      const d = palette[name].reduce((sum, v, c) => sum + (v - m[c]) ** 2, 0);
      if (d < bestDistance) [best, bestDistance] = [name, d];
    }
    return best;
  });
}

interface Score {
  label: string;
  group: number;
  groupHeldOut: number;
  background: number;
  total: number;
  totalHeldOut: number;
}

async function score(label: string, evalSet: EvalSet, seeds: number[], run: (p: EvalSet['prompts'][number]) => Promise<Float32Array>, judge: ort.InferenceSession): Promise<Score> {
  const s: Score = { label, group: 0, groupHeldOut: 0, background: 0, total: 0, totalHeldOut: 0 };
  for (const p of evalSet.prompts) {
    const x = await run(p);
    const groups = await judgeGroups(judge, x, seeds.length);
    const colours = borderColours(x, seeds.length, evalSet.backgrounds);
    const right = groups.filter((g) => g === p.group).length;
    s.group += right;
    s.background += colours.filter((c) => c === p.background).length;
    s.total += seeds.length;
    if (p.held_out) {
      s.groupHeldOut += right;
      s.totalHeldOut += seeds.length;
    }
  }
  return s;
}

function cliTimings(): number[] {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const out = path.join('/tmp', `split-default-${i}.png`);
    const started = performance.now();
    const r = spawnSync(process.execPath, [path.join(root, 'bin/split-studio.js'), 'generate', '--prompt', 'red apple on a blue background', '--seed', String(i), '--out', out, '--no-gallery'], { encoding: 'utf8' });
    const wall = performance.now() - started;
    if (r.status !== 0) {
      // older builds without --no-gallery
      const again = spawnSync(process.execPath, [path.join(root, 'bin/split-studio.js'), 'generate', '--prompt', 'red apple on a blue background', '--seed', String(i), '--out', out], { encoding: 'utf8' });
      if (again.status !== 0) throw new Error(`CLI failed: ${again.stderr}`);
    }
    times.push(wall);
  }
  return times;
}

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  const dir = defaultModelDir();
  if (!dir) throw new Error('no embedded default model under resources/models');
  const folder = readModelFolder(dir);
  const model = await openPixelPipeline(folder, ['cpu']);
  const labels = folder.classLabels!;
  const classifier = new OnnxClassifier((await model.classifierSession())!, labels.length, { channels: 3, height: 32, width: 32 }, 'classifier/model.onnx');
  const judgeDir = path.join(root, 'tools', 'train', 'judge');
  const judge = await ort.InferenceSession.create(path.join(judgeDir, 'noto-group-judge.onnx'));
  const judgeInfo = JSON.parse(readFileSync(path.join(judgeDir, 'judge.json'), 'utf8'));
  const evalSet: EvalSet = JSON.parse(readFileSync(path.join(judgeDir, 'eval_prompts.json'), 'utf8'));
  const base = baseSettings(model);
  const seeds = [0, 1, 2, 3];
  const settingsFor = (p: EvalSet['prompts'][number]) => ({ ...base, prompt: p.prompt });

  const scores = [
    await score(`default: ${base.solver}, ${base.steps} steps ${String(base.spacing)}, CFG w = ${base.guidance}`, evalSet, seeds, (p) => samples(model, classifier, settingsFor(p), seeds, null), judge),
    await score(`DDIM, 50 steps, CFG w = ${base.guidance}`, evalSet, seeds, (p) => samples(model, classifier, { ...settingsFor(p), solver: 'ddim', steps: 50, spacing: startingSpacing('ddim', model.folder.defaults.spacing, model.folder.scheduler.timestepSpacing) }, seeds, null), judge),
    await score(`default + classifier guidance toward the group, s = 10`, evalSet, seeds, (p) => samples(model, classifier, { ...settingsFor(p), classifierScale: 10 }, seeds, p.group), judge),
  ];
  const sheet = await contactSheet(model, evalSet, seeds);
  const cli = cliTimings();
  const pct = (c: number, t: number) => `${((100 * c) / t).toFixed(1)}% (${c}/${t})`;
  const provenance = JSON.parse(readFileSync(path.join(dir, 'studio.json'), 'utf8')).provenance ?? {};
  const cost = expectedCost(base.solver, base.steps, termsOf('cfg'), base.conditionAt);

  const lines = [
    '# The embedded default model: Noto Emoji 32',
    '',
    '<!-- Generated by `npm run docs:default-model` (tools/docs/defaultModel.ts); every number is measured. -->',
    '',
    `${folder.description ?? ''}`,
    '',
    `Folder: \`resources/models/${path.basename(dir)}\` (pixel space, 32x32, text encoder + UNet + noisy classifier over ${labels.length} emoji groups: ${labels.join(', ')}).`,
    'Training: tools/train/README.md (every run recorded). Licence and provenance: the folder\'s studio.json.',
    '',
    `Trained: ${provenance.diffusion ?? '?'}.`,
    '',
    '## Does the prompt steer the picture?',
    '',
    `${evalSet.prompts.length} prompts of the form "<emoji name> on a <colour> background", three per group; the first of each group is one of the 10% of emoji held out of training (dataset.npz held_out) ${provenance.held_out_excluded === true ? '(this model never saw them)' : '(but the weights in this folder predate that split and did see them: the column shows the split, not generalisation)'}. ${seeds.length} seeds each (${seeds.join(', ')}), default settings unless the row says otherwise.`,
    '',
    `- *group*: an independent judge (tools/train/train_judge.py: a small ResNet trained on real Noto renders, never used for guidance; ${(100 * judgeInfo.validation.accuracy_on_8_backgrounds).toFixed(1)}% right on ${judgeInfo.validation.emoji} real emoji it never saw) puts the sample in the prompt's group. Chance: ${(100 / labels.length).toFixed(1)}%.`,
    '- *background*: the mean colour of the outer two-pixel ring is nearest (RGB) to the prompt\'s colour among the 8 training backgrounds. Chance: 12.5%.',
    '',
    '| setting | group | group, held-out emoji | background |',
    '|---|---|---|---|',
    ...scores.map((r) => `| ${r.label} | ${pct(r.group, r.total)} | ${pct(r.groupHeldOut, r.totalHeldOut)} | ${pct(r.background, r.total)} |`),
    '',
    '## Contact sheet',
    '',
    `The ${evalSet.prompts.length} prompts below, two per row (left, right), seeds ${seeds.join(', ')}; default settings (${base.solver}, ${base.steps} steps ${String(base.spacing)}, CFG w = ${base.guidance}).`,
    '',
    '![contact sheet](default-model-contact-sheet.png)',
    '',
    ...evalSet.prompts.map((p, i) => `${i + 1}. ${p.prompt}${p.held_out ? ' (held out)' : ''}`),
    '',
    '## Speed',
    '',
    `\`npx split-studio generate --prompt "red apple on a blue background" --out a.png\` (default solver ${base.solver}, ${base.steps} steps ${String(base.spacing)}, CFG w = ${base.guidance}, ${base.conditionAt} placement: ${cost.nfe} batch-2 UNet calls), wall time of the whole process including Node start-up and model loading, 5 runs: median ${median(cli).toFixed(0)} ms (min ${Math.min(...cli).toFixed(0)}, max ${Math.max(...cli).toFixed(0)}).`,
    '',
    `Sampling only, in-process, default settings: median ${median(sheet.ms).toFixed(0)} ms over the contact sheet's ${sheet.ms.length} images.`,
    '',
  ];
  writeFileSync(path.join(root, 'docs', 'default-model.md'), lines.join('\n'));
  console.log(lines.join('\n'));
}

await main();
