// Runs classifier/model.onnx with onnxruntime-node on inputs given as JSON; prints JSON.
// Used by test_classifier_grad.py. Usage: node tools/train/ort_classifier_check.mjs in.json
import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
const inp = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const B = inp.t.length;
const sess = await ort.InferenceSession.create(inp.model, { intraOpNumThreads: 1 });
const out = await sess.run({
  sample: new ort.Tensor('float32', Float32Array.from(inp.x), [B, 3, 32, 32]),
  timestep: new ort.Tensor('float32', Float32Array.from(inp.t), [B]),
  class_labels: new ort.Tensor('int64', BigInt64Array.from(inp.y.map(BigInt)), [B]),
});
console.log(JSON.stringify({ logits: Array.from(out.logits.data), grad: Array.from(out.grad.data) }));
