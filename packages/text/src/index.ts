export type { PromptableTextEncoder } from './promptable';
export { type ClipTextConfig, CLIP_VIT_B_32_TEXT_CONFIG, validateClipTextConfig, parseHfClipTextConfig } from './transformer/config';
export { hfClipTextKeys, hfClipTextShapes } from './transformer/weights';
export { ClipTokenizer, type TokenizeOptions, START_OF_TEXT, END_OF_TEXT, bytesToUnicode } from './tokenizer/clip-tokenizer';
export { htmlUnescape } from './tokenizer/html-unescape';
export {
  type ClipTextEncoder,
  type CreateClipTextEncoderOptions,
  type LoadClipTextEncoderOptions,
  createClipTextEncoder,
  loadClipTextEncoder,
} from './clip-encoder';
export { type WordVectorEncoder, type WordVectorEncoderOptions, createWordVectorEncoder, wordVectorWords } from './word-vectors/word-vector-encoder';
export { readWordVectors, type WordVectorsRead } from './word-vectors/read-word-vectors';
export { splitWords, wordParts } from './word-vectors/word-tokenizer';
export {
  type LicoPromptLearner,
  type PromptLearnerOptions,
  type PromptVariants,
  type ClassTokenPosition,
  type PromptPass,
  createPromptLearner,
} from './prompt/prompt-learner';
export { type MappingNetOptions, createMappingNet } from './prompt/mapping-net';
export { type Temperature, type TemperatureOptions, createTemperature } from './prompt/temperature';
