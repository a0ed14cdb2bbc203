// Checks the exported folder against torch reference outputs (written by export_onnx.py) with
// onnxruntime-node, then measures CPU latency. Usage (from the repo root):
//   node tools/train/check_onnx.mjs [modelDir] [refDir]
import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const modelDir = process.argv[2] ?? 'resources/models/noto-emoji-32';
const refDir = process.argv[3] ?? 'tools/train/.cache/onnx_ref';
const refs = JSON.parse(readFileSync(join(refDir, 'refs.json'), 'utf8'));
const ctor = { float32: Float32Array, int64: BigInt64Array };
function load(m) {
  const buf = readFileSync(join(refDir, m.file));
  const C = ctor[m.dtype];
  const arr = new C(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  return new ort.Tensor(m.dtype, arr, m.shape);
}
let ok = true;
const sessions = {};
for (const [name, r] of Object.entries(refs)) {
  for (const threads of [1, 2]) {
    const s = await ort.InferenceSession.create(join(modelDir, name, 'model.onnx'), { intraOpNumThreads: threads, interOpNumThreads: 1 });
    sessions[`${name}/${threads}`] = s;
  }
  const s = sessions[`${name}/1`];
  const feeds = Object.fromEntries(Object.entries(r.inputs).map(([k, m]) => [k, load(m)]));
  const out = await s.run(feeds);
  for (const [k, m] of Object.entries(r.outputs)) {
    const want = load(m).data, got = out[k].data;
    let maxAbs = 0, maxRef = 0, num = 0, den = 0;
    for (let i = 0; i < want.length; i++) {
      const d = Math.abs(got[i] - want[i]);
      maxAbs = Math.max(maxAbs, d); maxRef = Math.max(maxRef, Math.abs(want[i]));
      num += d * d; den += want[i] * want[i];
    }
    const rel = Math.sqrt(num / Math.max(den, 1e-30));
    const pass = maxAbs <= 1e-4 * Math.max(1, maxRef) && JSON.stringify(out[k].dims) === JSON.stringify(m.shape);
    ok &&= pass;
    console.log(`${pass ? 'OK  ' : 'FAIL'} ${name}.${k} dims ${JSON.stringify(out[k].dims)} maxAbs ${maxAbs.toExponential(2)} (max|ref| ${maxRef.toFixed(3)}) relL2 ${rel.toExponential(2)}`);
  }
}

// dynamic batch: batch-1 and batch-3 runs must equal the corresponding reference rows
for (const [name, r] of Object.entries(refs)) {
  const s = sessions[`${name}/1`];
  for (const nb of [1, 3]) {
    const feeds = {};
    for (const [k, m] of Object.entries(r.inputs)) {
      const full = load(m), per = full.data.length / m.shape[0];
      const C = ctor[m.dtype], data = new C(per * nb);
      for (let b = 0; b < nb; b++) data.set(full.data.subarray((b % m.shape[0]) * per, (b % m.shape[0] + 1) * per), b * per);
      feeds[k] = new ort.Tensor(m.dtype, data, [nb, ...m.shape.slice(1)]);
    }
    const out = await s.run(feeds);
    for (const [k, m] of Object.entries(r.outputs)) {
      const want = load(m).data, got = out[k].data, per = want.length / m.shape[0];
      let maxAbs = 0, maxRef = 0;
      for (let i = 0; i < got.length; i++) {
        const w = want[(Math.floor(i / per) % m.shape[0]) * per + (i % per)];
        maxAbs = Math.max(maxAbs, Math.abs(got[i] - w)); maxRef = Math.max(maxRef, Math.abs(w));
      }
      const pass = maxAbs <= 1e-4 * Math.max(1, maxRef) && out[k].dims[0] === nb;
      ok &&= pass;
      console.log(`${pass ? 'OK  ' : 'FAIL'} ${name}.${k} batch ${nb} maxAbs ${maxAbs.toExponential(2)}`);
    }
  }
}

async function bench(sess, feeds, n = 50) {
  for (let i = 0; i < 5; i++) await sess.run(feeds);
  const times = [];
  for (let i = 0; i < n; i++) { const t = performance.now(); await sess.run(feeds); times.push(performance.now() - t); }
  times.sort((a, b) => a - b);
  return { median: times[n >> 1], p90: times[Math.floor(n * 0.9)], min: times[0] };
}
const D = refs.unet.inputs.encoder_hidden_states.shape[2];
const fmt = (r) => `median ${r.median.toFixed(1)} ms, p90 ${r.p90.toFixed(1)} ms, min ${r.min.toFixed(1)} ms`;
for (const threads of [1, 2]) {
  const te = sessions[`text_encoder/${threads}`], un = sessions[`unet/${threads}`];
  const ids = new ort.Tensor('int64', new BigInt64Array(2 * 16), [2, 16]);
  const x = new ort.Tensor('float32', new Float32Array(2 * 3 * 32 * 32).map(() => Math.random() - 0.5), [2, 3, 32, 32]);
  const t = new ort.Tensor('int64', BigInt64Array.from([500n, 500n]), [2]);
  const h = new ort.Tensor('float32', new Float32Array(2 * 16 * D).map(() => Math.random() - 0.5), [2, 16, D]);
  console.log(`threads=${threads} text_encoder batch 2: ${fmt(await bench(te, { input_ids: ids }))}`);
  console.log(`threads=${threads} unet batch 2:         ${fmt(await bench(un, { sample: x, timestep: t, encoder_hidden_states: h }))}`);
  const cl = sessions[`classifier/${threads}`];
  const x1 = new ort.Tensor('float32', x.data.slice(0, 3072), [1, 3, 32, 32]);
  // Sessions are opened for the components in the reference I/O; a kept classifier has none.
  if (cl) console.log(`threads=${threads} classifier+grad b1:   ${fmt(await bench(cl, { sample: x1, timestep: new ort.Tensor('float32', Float32Array.from([500]), [1]), class_labels: new ort.Tensor('int64', BigInt64Array.from([2n]), [1]) }))}`);
  // end to end: text encoding + 20 CFG steps (batch-2 UNet call each)
  const runs = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    const enc = await te.run({ input_ids: ids });
    for (let s = 0; s < 20; s++) await un.run({ sample: x, timestep: t, encoder_hidden_states: enc.last_hidden_state });
    runs.push(performance.now() - t0);
  }
  runs.sort((a, b) => a - b);
  console.log(`threads=${threads} text + 20 CFG steps:  median ${runs[2].toFixed(0)} ms (min ${runs[0].toFixed(0)} ms)`);
}
console.log(ok ? 'ALL OUTPUTS MATCH' : 'MISMATCH');
process.exit(ok ? 0 : 1);
