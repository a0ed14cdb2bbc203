/** Tensors at the ONNX boundary: float32 or float16 as the model declares, and the timestep in whatever type and rank it takes. */
import * as ort from 'onnxruntime-node';
import { float32ToHalf, halfToFloat32 } from '../runtime/float16';
import { roundHalfEven } from '../engine/spacing';
import type { InputSpec } from '../runtime/sessions';
import { ModelInputError } from './errors';

export type FloatType = 'float32' | 'float16';

export const isFloatType = (t: string): t is FloatType => t === 'float32' || t === 'float16';

export function floatTensor(type: FloatType, data: Float32Array, dims: readonly number[]): ort.Tensor {
  return type === 'float16' ? new ort.Tensor('float16', float32ToHalf(data), dims) : new ort.Tensor('float32', data, dims);
}

export function tensorToFloat32(tensor: ort.Tensor, what: string): Float32Array {
  if (tensor.type === 'float32') return tensor.data as Float32Array;
  if (tensor.type === 'float16') return halfToFloat32(tensor.data as Uint16Array);
  throw new ModelInputError(`${what} is ${tensor.type}, expected float32 or float16`);
}

export const TIMESTEP_TYPES: readonly string[] = ['float32', 'float16', 'float64', 'int64', 'int32'];

/**
 * A timestep tensor of the model's declared type and shape, of any rank: symbolic first
 * dimensions take the batch size, other symbolic dimensions 1, fixed ones their size
 * (a scalar, [1] and [batch] are the common ones).
 *
 * An integer timestep input gets the nearest training step (half to even, as ONNX Round and
 * numpy round). Only the Euler family's grids have fractional timesteps (52.58 at 20 linspace
 * steps); diffusers' torch pipelines feed those to a float timestep embedding, so the nearest
 * step is the closest an integer input can come (diffusers' ONNX pipeline truncates to 52;
 * a float timestep input gets 52.58 itself). The paper's solvers use integer grids, which pass
 * unchanged.
 */
export function timestepFeed(spec: InputSpec, timestep: number, batch: number): ort.Tensor {
  const dims = spec.shape.map((d, i) => (typeof d === 'number' && d > 0 ? d : i === 0 ? batch : 1));
  const count = dims.reduce((a, b) => a * b, 1);
  switch (spec.type) {
    case 'float32':
      return new ort.Tensor('float32', new Float32Array(count).fill(timestep), dims);
    case 'float16':
      return new ort.Tensor('float16', float32ToHalf(new Float32Array(count).fill(timestep)), dims);
    case 'float64':
      return new ort.Tensor('float64', new Float64Array(count).fill(timestep), dims);
    case 'int64':
      return new ort.Tensor('int64', new BigInt64Array(count).fill(BigInt(roundHalfEven(timestep))), dims);
    case 'int32':
      return new ort.Tensor('int32', new Int32Array(count).fill(roundHalfEven(timestep)), dims);
    default:
      throw new ModelInputError(`input "timestep" has type ${spec.type}; supported: ${TIMESTEP_TYPES.join(', ')}`);
  }
}
