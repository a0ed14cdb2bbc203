/**
 * Fixed input sizes for ONNX models, by rewriting the model's bytes.
 *
 * DirectML (and CoreML) run far faster when every dimension is known when the session is
 * created. ONNX Runtime's `freeDimensionOverrides` session option does that, but
 * onnxruntime-node's native binding (1.30) ignores it (only the web binding reads it), so the
 * same effect is produced here: each graph input's symbolic dimension (`dim_param`) named in
 * `sizes` becomes a fixed `dim_value` in a copy of the model, and the session is created from
 * those bytes. External data (weights.pb / model.onnx_data) is then handed to ONNX Runtime
 * explicitly, because a model created from bytes has no folder to find it in.
 *
 * Only the path ModelProto.graph(7) -> GraphProto.input(11) -> ValueInfoProto.type(2) ->
 * TypeProto.tensor_type(1) -> shape(2) -> dim(1) is decoded; everything else is copied as is.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

type Rope = Uint8Array[];

function readVarint(buf: Uint8Array, pos: number): [value: number, next: number] {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    const byte = buf[pos++];
    if (byte === undefined) throw new Error('ONNX model: truncated varint');
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return [value, pos];
    scale *= 128;
  }
  throw new Error('ONNX model: varint too long');
}

function varint(value: number): Uint8Array {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Uint8Array.from(out);
}

interface Field {
  number: number;
  wire: number;
  /** The whole field (tag included). */
  start: number;
  end: number;
  /** Length-delimited fields: the payload. */
  valueStart: number;
}

function* fields(buf: Uint8Array): Generator<Field> {
  let pos = 0;
  while (pos < buf.length) {
    const start = pos;
    const [tag, afterTag] = readVarint(buf, pos);
    const number = Math.floor(tag / 8);
    const wire = tag % 8;
    pos = afterTag;
    let valueStart = pos;
    switch (wire) {
      case 0:
        pos = readVarint(buf, pos)[1];
        break;
      case 1:
        pos += 8;
        break;
      case 2: {
        const [length, next] = readVarint(buf, pos);
        valueStart = next;
        pos = next + length;
        break;
      }
      case 5:
        pos += 4;
        break;
      default:
        throw new Error(`ONNX model: unsupported protobuf wire type ${wire}`);
    }
    if (pos > buf.length) throw new Error('ONNX model: truncated field');
    yield { number, wire, start, end: pos, valueStart };
  }
}

const ropeLength = (rope: Rope) => rope.reduce((n, part) => n + part.length, 0);

/** The message with every length-delimited field `number` replaced by `edit(payload)` (null = unchanged). */
function editField(buf: Uint8Array, number: number, edit: (payload: Uint8Array) => Rope | null): Rope | null {
  const out: Rope = [];
  let changed = false;
  let copyFrom = 0;
  for (const f of fields(buf)) {
    if (f.number !== number || f.wire !== 2) continue;
    const edited = edit(buf.subarray(f.valueStart, f.end));
    if (!edited) continue;
    changed = true;
    out.push(buf.subarray(copyFrom, f.start), varint(number * 8 + 2), varint(ropeLength(edited)), ...edited);
    copyFrom = f.end;
  }
  if (!changed) return null;
  out.push(buf.subarray(copyFrom));
  return out;
}

const utf8 = new TextDecoder();

function fixDimension(sizes: Readonly<Record<string, number>>, dim: Uint8Array): Rope | null {
  for (const f of fields(dim)) {
    if (f.number === 2 && f.wire === 2) {
      const name = utf8.decode(dim.subarray(f.valueStart, f.end));
      const size = sizes[name];
      if (size === undefined) return null;
      // Keep other fields (denotation), replace dim_param by dim_value.
      const rest = [...fields(dim)].filter((g) => g.number !== 2 && g.number !== 1).map((g) => dim.subarray(g.start, g.end));
      return [varint(1 * 8 + 0), varint(size), ...rest];
    }
  }
  return null;
}

/** A copy of the model in which the graph inputs' symbolic dimensions named in `sizes` are fixed. */
export function fixInputDimensions(model: Uint8Array, sizes: Readonly<Record<string, number>>): Uint8Array {
  for (const [name, size] of Object.entries(sizes)) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`fixed size of "${name}" must be a positive integer, got ${size}`);
  }
  const fixDims = (valueInfo: Uint8Array) =>
    editField(valueInfo, 2, (type) => editField(type, 1, (tensorType) => editField(tensorType, 2, (shape) => editField(shape, 1, (dim) => fixDimension(sizes, dim)))));
  const edited = editField(model, 7, (graph) => editField(graph, 11, fixDims));
  return edited ? Buffer.concat(edited) : model;
}

/** Files named by the model's initializers as external data (ModelProto.graph.initializer[].external_data "location"). */
export function externalDataLocations(model: Uint8Array): string[] {
  const locations = new Set<string>();
  for (const g of fields(model)) {
    if (g.number !== 7 || g.wire !== 2) continue;
    const graph = model.subarray(g.valueStart, g.end);
    for (const i of fields(graph)) {
      if (i.number !== 5 || i.wire !== 2) continue;
      const tensor = graph.subarray(i.valueStart, i.end);
      for (const e of fields(tensor)) {
        if (e.number !== 13 || e.wire !== 2) continue;
        const entry = tensor.subarray(e.valueStart, e.end);
        let key = '';
        let value = '';
        for (const kv of fields(entry)) {
          if (kv.wire !== 2) continue;
          if (kv.number === 1) key = utf8.decode(entry.subarray(kv.valueStart, kv.end));
          if (kv.number === 2) value = utf8.decode(entry.subarray(kv.valueStart, kv.end));
        }
        if (key === 'location' && value) locations.add(value);
      }
    }
  }
  return [...locations];
}

export interface FixedModel {
  bytes: Uint8Array;
  externalData: { path: string; data: Uint8Array }[];
}

/** The model file with fixed input sizes, and its external data read from beside it. */
export function loadWithFixedDimensions(modelPath: string, sizes: Readonly<Record<string, number>>): FixedModel {
  const original = readFileSync(modelPath);
  const externalData = externalDataLocations(original).map((location) => {
    const file = path.resolve(path.dirname(modelPath), location);
    if (path.relative(path.dirname(modelPath), file).startsWith('..')) throw new Error(`external data "${location}" lies outside the model's folder`);
    return { path: location, data: readFileSync(file) };
  });
  return { bytes: fixInputDimensions(original, sizes), externalData };
}
