/**
 * The word-vector encoder's tokenizer, first step: lower-cases, then takes words (runs of
 * letters/digits, joined by inner `-` or `'`, e.g. `t-shirt`, `don't`) and the sentence
 * punctuation `. , ! ? ; :` as tokens; every other character (spaces, `/`, `_`, …) only
 * separates words. So `'T-shirt/top'` → `['t-shirt', 'top']`. A joined word the vectors do not
 * know is then split at its `-`/`'` ({@link wordParts}).
 */
export function splitWords(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+(?:['-][\p{L}\p{N}]+)*|[.,!?;:]/gu) ?? [];
}

/** The parts of a joined word (`'t-shirt'` → `['t', 'shirt']`); a plain word is its own part. */
export function wordParts(word: string): string[] {
  return word.split(/['-]/).filter((p) => p !== '');
}
