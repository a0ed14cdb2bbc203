/** Opening any model folder as a Pipeline: the CLI, the engine process and the tools start here. */
import type { ModelFolder } from '../models/modelFolder';
import type { ProviderName } from '../runtime/sessions';
import { openLatentPipeline } from './latent';
import type { Pipeline } from './pipeline';
import { openPixelPipeline } from './pixel';

export function openPipeline(folder: ModelFolder, providers: readonly ProviderName[]): Promise<Pipeline> {
  return folder.kind === 'latent' ? openLatentPipeline(folder, providers) : openPixelPipeline(folder, providers);
}
