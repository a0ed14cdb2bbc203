/** What can go wrong with a model folder's networks, as errors the CLI and the studio report as the folder's fault. */

/** A network that does not fit what the pipeline needs (inputs, types, shapes), or a broken model file. */
export class ModelInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelInputError';
  }
}

/** A network produced values that cannot be turned into an image (NaN, infinities, all black). */
export class NumericalError extends ModelInputError {
  constructor(message: string) {
    super(message);
    this.name = 'NumericalError';
  }
}

export const VAE_NAN_MESSAGE = 'the VAE produced NaN values — usually an fp16 VAE overflow; use an fp32 VAE or the CPU provider';
export const VAE_BLACK_MESSAGE = 'the VAE produced an all-black image — usually an fp16 VAE overflow; use an fp32 VAE or the CPU provider';
export const VAE_ENCODER_NAN_MESSAGE = 'the VAE encoder produced NaN or infinite values — usually an fp16 VAE overflow; use an fp32 VAE or the CPU provider';
export const UNET_NAN_MESSAGE = 'the UNet produced NaN or infinite values — usually an fp16 UNet overflow; use an fp32 model or the CPU provider';
