/**
 * `npm run bench:png`: what one 512x512 RGBA result costs the PNG codec (src/main/core/io/png):
 * encoding it with the gallery's metadata chunks, decoding it back, and reading only its text
 * chunks (what import does), each the median of several runs, with the encoded size. The
 * picture is a smooth gradient with a little noise, like a generated image rather than a
 * flat fill (which every codec compresses to nothing) or pure noise (which none can).
 * A benchmark, not a test: it prints, it does not judge.
 */
import os from 'node:os';
import { decodePng, encodePng, readPngText } from '../../src/main/core/io/png';

const SIDE = 512;
const args = process.argv.slice(2);
const runsArg = args.indexOf('--runs');
const RUNS = runsArg >= 0 ? Number(args[runsArg + 1]) : 15;
if (!Number.isInteger(RUNS) || RUNS < 1) {
  process.stderr.write('bench:png: --runs must be a whole number >= 1\n');
  process.exit(2);
}

/** Deterministic (an LCG), so every run measures the same picture. */
function benchPicture(side: number): Uint8Array {
  const data = new Uint8Array(side * side * 4);
  let state = 12345;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      const noise = state >>> 28;
      const o = (y * side + x) * 4;
      data[o] = (x / 2 + 40 * Math.sin(y / 23) + noise) & 255;
      data[o + 1] = (y / 2 + 30 * Math.cos(x / 31) + noise) & 255;
      data[o + 2] = ((x + y) / 4 + noise) & 255;
      data[o + 3] = 255;
    }
  }
  return data;
}

/** Median wall time of `runs` calls, after one warm-up call. */
function medianMs(runs: number, work: () => unknown): number {
  work();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    work();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times.length % 2 ? times[(times.length - 1) / 2] : (times[times.length / 2 - 1] + times[times.length / 2]) / 2;
}

const image = { width: SIDE, height: SIDE, channels: 4 as const, data: benchPicture(SIDE) };
// What the gallery writes beside every image (pngTextOptions): the A1111 line and the settings JSON.
const metadata = {
  text: { parameters: 'a lighthouse at dusk\nSteps: 30, Sampler: DDIM, CFG scale: 7.5, Seed: 1, Size: 512x512', Software: 'Split Studio bench' },
  itxt: { 'split-studio': JSON.stringify({ prompt: 'a lighthouse at dusk', steps: 30, seed: 1, width: SIDE, height: SIDE }) },
};
const png = encodePng(image, metadata);

console.log(`PNG benchmark: ${SIDE}x${SIDE} RGBA, median of ${RUNS} runs; ${os.cpus()[0]?.model ?? 'cpu'}, ${os.availableParallelism?.() ?? os.cpus().length} cores`);
const rows: [string, number][] = [
  ['encode (with text chunks)', medianMs(RUNS, () => encodePng(image, metadata))],
  ['decode', medianMs(RUNS, () => decodePng(png))],
  ['read text chunks only', medianMs(RUNS, () => readPngText(png))],
];
const width = Math.max(...rows.map(([name]) => name.length));
for (const [name, ms] of rows) console.log(`${name.padEnd(width)}  ${ms.toFixed(1).padStart(7)} ms`);
console.log(`${'encoded size'.padEnd(width)}  ${(png.length / 1024).toFixed(0).padStart(7)} KiB`);
