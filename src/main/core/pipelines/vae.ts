/**
 * The VAE of a latent (Stable Diffusion) folder: pictures to latents and back, the scaling
 * factor, and a cheap per-step preview of latents.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { MAX_CONFIG_BYTES, readJsonBounded } from '../io/json';
import type { ModelFolder } from '../models/modelFolder';
import { ModelInputError, NumericalError, VAE_ENCODER_NAN_MESSAGE } from './errors';
import type { OnnxComponent } from './onnxComponent';
import { floatTensor, isFloatType, tensorToFloat32 } from './onnxTensors';

const DEFAULT_SCALING_FACTOR = 0.18215;
/** Image pixels per latent cell side. */
export const VAE_FACTOR = 8;

export interface Vae {
  decoder: OnnxComponent;
  /** The encoder, opened on first use (txt2img never needs it). */
  encoder(): Promise<OnnxComponent>;
  scalingFactor: number;
  /** Where the scaling factor came from (shown in reports). */
  scalingFactorSource: string;
}

export function readScalingFactor(folder: ModelFolder): { value: number; source: string } {
  const file = path.join(folder.dir, 'vae_decoder', 'config.json');
  if (!existsSync(file)) return { value: DEFAULT_SCALING_FACTOR, source: `default ${DEFAULT_SCALING_FACTOR} (no vae_decoder/config.json)` };
  const json = readJsonBounded(file, MAX_CONFIG_BYTES, 'vae_decoder/config.json', (m) => new ModelInputError(`${folder.dir}: ${m}`));
  const v = (json as Record<string, unknown> | null)?.scaling_factor;
  if (v === undefined || v === null) return { value: DEFAULT_SCALING_FACTOR, source: `default ${DEFAULT_SCALING_FACTOR} (vae_decoder/config.json has no scaling_factor)` };
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new ModelInputError(`${folder.dir}: vae_decoder/config.json "scaling_factor" must be a positive number, got ${typeof v === 'number' ? v : `a ${Array.isArray(v) ? 'list' : typeof v}`}`);
  return { value: v, source: `vae_decoder/config.json (${v})` };
}

/** The decoder's image for latents x [4, h, w] (unscaled by the factor first): [3, 8h, 8w], in about [-1, 1]. */
export async function vaeDecode(vae: Vae, latent: Float32Array, h: number, w: number): Promise<Float32Array> {
  const { decoder } = vae;
  const inputName = decoder.inputs.has('latent_sample') ? 'latent_sample' : [...decoder.inputs.keys()][0];
  const spec = decoder.inputs.get(inputName)!;
  if (!isFloatType(spec.type)) throw new ModelInputError(`vae_decoder/model.onnx: input "${inputName}" is ${spec.type}, expected float32 or float16`);
  const scaled = new Float32Array(latent.length);
  for (let i = 0; i < latent.length; i++) scaled[i] = latent[i] / vae.scalingFactor;
  const outputName = decoder.outputNames.includes('sample') ? 'sample' : decoder.outputNames[0];
  const result = await decoder.run({ [inputName]: floatTensor(spec.type, scaled, [1, 4, h, w]) }, [outputName]);
  const out = result[outputName];
  const [H, W] = [h * VAE_FACTOR, w * VAE_FACTOR];
  if (out.dims.length !== 4 || out.dims[0] !== 1 || out.dims[1] !== 3 || out.dims[2] !== H || out.dims[3] !== W) {
    throw new ModelInputError(`vae_decoder/model.onnx output has shape [${out.dims.join(', ')}], expected [1, 3, ${H}, ${W}]`);
  }
  const image = Float32Array.from(tensorToFloat32(out, 'vae_decoder/model.onnx output'));
  out.dispose?.();
  return image;
}

/**
 * The encoder's latent for an image [3, H, W] in [-1, 1], times the scaling factor: [4, H/8, W/8].
 * An encoder that returns the 8 moments of the latent distribution (mean, log-variance) gives
 * its mean (deterministic; diffusers samples, which differs by SD's tiny VAE variance); a
 * 4-channel output is used as it is (diffusers' own export samples inside the graph).
 */
export async function vaeEncode(vae: Vae, image: Float32Array, height: number, width: number): Promise<Float32Array> {
  const encoder = await vae.encoder();
  const inputName = encoder.inputs.has('sample') ? 'sample' : [...encoder.inputs.keys()][0];
  const spec = encoder.inputs.get(inputName)!;
  if (!isFloatType(spec.type)) throw new ModelInputError(`vae_encoder/model.onnx: input "${inputName}" is ${spec.type}, expected float32 or float16`);
  const outputName = ['latent_sample', 'latent_parameters', 'latent_dist'].find((n) => encoder.outputNames.includes(n)) ?? encoder.outputNames[0];
  const result = await encoder.run({ [inputName]: floatTensor(spec.type, image, [1, 3, height, width]) }, [outputName]);
  const out = result[outputName];
  const [h, w] = [height / VAE_FACTOR, width / VAE_FACTOR];
  if (out.dims.length !== 4 || out.dims[0] !== 1 || (out.dims[1] !== 4 && out.dims[1] !== 8) || out.dims[2] !== h || out.dims[3] !== w) {
    throw new ModelInputError(`vae_encoder/model.onnx output "${outputName}" has shape [${out.dims.join(', ')}], expected [1, 4 (or 8 moments), ${h}, ${w}]`);
  }
  const data = tensorToFloat32(out, 'vae_encoder/model.onnx output');
  const latent = new Float32Array(4 * h * w);
  for (let i = 0; i < latent.length; i++) latent[i] = data[i] * vae.scalingFactor; // the first 4 channels: the mean
  out.dispose?.();
  if (!latent.every(Number.isFinite)) throw new NumericalError(VAE_ENCODER_NAN_MESSAGE);
  return latent;
}


/**
 * A cheap RGB preview of SD latents: the published linear approximation of the SD 1.x VAE
 * (latent channel -> RGB weights; SD 2.x latents look alike), upsampled 8x by repetition.
 * Decoding every step with the VAE would cost about as much as the UNet call itself.
 */
const LATENT_RGB = [
  [0.298, 0.207, 0.208],
  [0.187, 0.286, 0.173],
  [-0.158, 0.189, 0.264],
  [-0.184, -0.271, -0.473],
];

export function latentPreview(latent: Float32Array, h: number, w: number): Float32Array {
  const W = w * VAE_FACTOR;
  const H = h * VAE_FACTOR;
  const hw = h * w;
  const out = new Float32Array(3 * H * W);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const cell = Math.floor(y / VAE_FACTOR) * w + Math.floor(x / VAE_FACTOR);
      for (let c = 0; c < 3; c++) {
        let v = 0;
        for (let k = 0; k < 4; k++) v += LATENT_RGB[k][c] * latent[k * hw + cell];
        out[c * H * W + y * W + x] = v;
      }
    }
  }
  return out;
}

