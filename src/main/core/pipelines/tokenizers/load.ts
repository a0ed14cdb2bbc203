/** Picks the tokenizer by what a model folder's tokenizer/ holds. */
import { isClipTokenizerDir, loadClipTokenizer } from './clip';
import { type PromptTokenizer, loadWordLevelTokenizer } from './wordLevel';
import type { ModelFolder } from '../../models/modelFolder';
import { ModelInputError } from '../errors';

/**
 * vocab.json + merges.txt, or a tokenizer.json with a BPE model: CLIP's byte-level BPE
 * (Stable Diffusion); a tokenizer.json with a WordLevel model: the word-level tokenizer of the
 * studio's own pixel models.
 */
export function loadPromptTokenizer(dir: string): PromptTokenizer {
  return isClipTokenizerDir(dir) ? loadClipTokenizer(dir) : loadWordLevelTokenizer(dir);
}

/** The tokenizer of a model folder with a text encoder; a ModelInputError names what is wrong. */
export function folderTokenizer(folder: ModelFolder): PromptTokenizer {
  if (!folder.tokenizerDir) throw new ModelInputError(`${folder.dir}: text_encoder/ needs a tokenizer/ folder`);
  try {
    return loadPromptTokenizer(folder.tokenizerDir);
  } catch (error) {
    throw new ModelInputError(`${folder.dir}: ${(error as Error).message}`);
  }
}
