import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadGolden } from '@lico/testing';
import { describe, expect, it } from 'vitest';
import { ClipTokenizer } from './clip-tokenizer';
import { htmlUnescape } from './html-unescape';

interface Golden {
  cases: { text: string; ids: number[]; truncated77: number[] }[];
  vocabSize: number;
}
const here = path.dirname(fileURLToPath(import.meta.url));
const golden = loadGolden<Golden>(new URL('./__golden__/tokenizer-cases.json', import.meta.url));
const files = { vocab: path.join(here, '__golden__', 'toy-vocab.json'), merges: path.join(here, '__golden__', 'toy-merges.txt') };

describe('ClipTokenizer', () => {
  it("matches openai/CLIP's SimpleTokenizer on varied strings (toy BPE vocabulary)", async () => {
    const tok = await ClipTokenizer.fromFiles(files);
    expect(tok.vocab.size).toBe(golden.vocabSize);
    expect(golden.cases.length).toBeGreaterThan(15);
    for (const c of golden.cases) expect({ text: c.text, ids: tok.encode(c.text) }).toEqual({ text: c.text, ids: c.ids });
  });

  it('tokenize adds start/end, pads with zeros, and truncates only when asked', async () => {
    const tok = await ClipTokenizer.fromFiles(files);
    for (const c of golden.cases) {
      if (c.ids.length + 2 <= 77) expect(tok.tokenize(c.text)[0]).toEqual(c.truncated77);
      else {
        expect(() => tok.tokenize(c.text)).toThrow(/needs \d+ tokens with start\/end, more than the context length 77/);
        expect(tok.tokenize([c.text], 77, { truncate: true })[0]).toEqual(c.truncated77);
      }
    }
    const rows = tok.tokenize(['a photo of a cat.', 'dog'], 10);
    expect(rows.map((r) => r.length)).toEqual([10, 10]);
    expect(rows[1]![0]).toBe(tok.startTokenId);
    expect(() => tok.tokenize('x', 1)).toThrow(/contextLength/);
  });

  it('cleans text as CLIP does (without ftfy)', () => {
    expect(ClipTokenizer.clean('  Fish &amp;amp; Chips\t\n ')).toBe('fish & chips');
    expect(htmlUnescape('&lt;a&gt; &#65;&#x42; &amp &ampx &unknown; &#0; &#128;')).toBe('<a> AB & &x &unknown; \ufffd \u20ac');
    expect(ClipTokenizer.split("it's 12 cats!!")).toEqual(['it', "'s", '1', '2', 'cats', '!!']);
  });

  it('reports missing or malformed files clearly', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lico-tok-'));
    try {
      await expect(ClipTokenizer.fromDirectory(dir)).rejects.toThrow(/cannot read tokenizer file .*vocab\.json/);
      writeFileSync(path.join(dir, 'vocab.json'), '{"a</w>": 0');
      writeFileSync(path.join(dir, 'merges.txt'), '#version: 0.2\na b\n');
      await expect(ClipTokenizer.fromDirectory(dir)).rejects.toThrow(/vocab\.json: not valid JSON/);
      writeFileSync(path.join(dir, 'vocab.json'), '{"a</w>": 0}');
      await expect(ClipTokenizer.fromDirectory(dir)).rejects.toThrow(/lacks the special tokens/);
      writeFileSync(path.join(dir, 'vocab.json'), '{"a</w>": 0, "<|startoftext|>": 1, "<|endoftext|>": 2}');
      writeFileSync(path.join(dir, 'merges.txt'), '#version: 0.2\na b c\n');
      await expect(ClipTokenizer.fromDirectory(dir)).rejects.toThrow(/merges line 2 must hold two symbols/);
      writeFileSync(path.join(dir, 'merges.txt'), '#version: 0.2\n');
      const tok = await ClipTokenizer.fromDirectory(dir);
      expect(tok.encode('a')).toEqual([0]);
      expect(() => tok.encode('b')).toThrow(/BPE symbol "b<\/w>" .* not in the vocabulary/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
