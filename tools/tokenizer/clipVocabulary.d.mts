export declare const CLIP_VOCAB_SHA256: string;
export declare const CLIP_MERGES_SHA256: string;
export declare const CLIP_VOCAB_SIZE: number;
/** vocab.json and merges.txt exactly as Stable Diffusion 1.x ships them (checked by SHA-256). */
export declare function clipVocabularyFiles(): Promise<{
  vocabJson: string;
  mergesTxt: string;
  vocab: Map<string, number>;
  merges: [string, string][];
}>;
