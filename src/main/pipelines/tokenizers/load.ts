/** Picks the tokenizer by what a model folder's tokenizer/ holds. */
import { isClipTokenizerDir, loadClipTokenizer } from './clip';
import { type PromptTokenizer, loadWordLevelTokenizer } from './wordLevel';

/**
 * vocab.json + merges.txt, or a tokenizer.json with a BPE model: CLIP's byte-level BPE
 * (Stable Diffusion); a tokenizer.json with a WordLevel model: the word-level tokenizer of the
 * studio's own pixel models.
 */
export function loadPromptTokenizer(dir: string): PromptTokenizer {
  return isClipTokenizerDir(dir) ? loadClipTokenizer(dir) : loadWordLevelTokenizer(dir);
}
