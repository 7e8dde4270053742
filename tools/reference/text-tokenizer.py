#!/usr/bin/env python3
"""Reference ids for @lico/text's CLIP tokenizer.

The real CLIP vocabulary cannot be downloaded here and may not be committed, so this script
1. learns a small byte-level BPE (a few hundred merges, CLIP's `</w>` convention) from a toy corpus,
2. builds openai/CLIP's own `SimpleTokenizer` (clip/simple_tokenizer.py, loaded at run time from a
   checkout of github.com/openai/CLIP given by --clip-repo; not copied here) on those merges,
3. writes its vocabulary and merges in the Hugging Face file format (vocab.json, merges.txt), and
4. records the ids it produces for varied strings (golden JSON).

`ftfy` is not installed on this machine: its `fix_text` is replaced by the identity, as
@lico/text does (the cases avoid text ftfy would change).

Usage: /usr/bin/python3 tools/reference/text-tokenizer.py --clip-repo /path/to/CLIP/checkout-or-git-dir
"""
import argparse
import collections
import gzip
import json
import os
import subprocess
import sys
import tempfile
import types

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'packages', 'text', 'src', 'tokenizer', '__golden__')

CORPUS = """
a photo of a cat. a photo of a dog. a photo of the airplane, automobile, bird, cat, deer, dog, frog, horse, ship and truck.
t-shirt/top trouser pullover dress coat sandal shirt sneaker bag ankle boot. there is a small red car on the road.
the quick brown fox jumps over the lazy dog! it's a photo of an apple; i'm sure they're here and we've seen it. don't stop.
numbers 0 1 2 3 4 5 6 7 8 9 10 100 2023. café naïve résumé über straße. привет мир. 日本語のテキスト. مرحبا بالعالم.
photography photographs photographic cats dogs birds horses ships trucks frogs deers boots shirts dresses coats.
"""

CASES = [
    'a photo of a cat.',
    'A Photo Of A CAT!',
    '  lots   of\twhite\n\nspace  ',
    "it's what they're doing, isn't it? I'LL say we've DON'T",
    'numbers: 12345, 3.14159 and 1,000,000',
    'punctuation!!! ...?? (parens) [brackets] {braces} @#$%^&*',
    'fish &amp; chips &lt;tag&gt; &amp;amp; &#39;quoted&#39; &#x41;&#66;',
    'café naïve résumé über straße Ångström',
    'İstanbul',
    'привет мир, как дела?',
    '日本語のテキストです',
    'مرحبا بالعالم',
    'emoji 🐱 😀👍🏽 🐱‍👤',
    'T-shirt/top',
    'ankle boot',
    'hello <|endoftext|> world',
    'photographic photographs unphotographable',
    '',
    ' '.join(['a photo of a very long caption about cats and dogs'] * 12),
]


def load_clip_tokenizer(clip_repo):
    path = os.path.join(clip_repo, 'clip', 'simple_tokenizer.py')
    if os.path.exists(path):
        src = open(path, encoding='utf-8').read()
        rev = subprocess.run(['git', '-C', clip_repo, 'rev-parse', 'HEAD'], capture_output=True, text=True).stdout.strip()
    else:  # a bare git directory (as fetched by the search tool)
        src = subprocess.run(['git', '--git-dir', clip_repo, 'show', 'HEAD:clip/simple_tokenizer.py'], capture_output=True, text=True, check=True).stdout
        rev = subprocess.run(['git', '--git-dir', clip_repo, 'rev-parse', 'HEAD'], capture_output=True, text=True).stdout.strip()
    sys.modules['ftfy'] = types.SimpleNamespace(fix_text=lambda t: t)
    module = types.ModuleType('clip_simple_tokenizer')
    module.__file__ = path
    exec(compile(src, path, 'exec'), module.__dict__)
    return module, rev


def learn_merges(module, corpus, num_merges):
    import regex
    byte_encoder = module.bytes_to_unicode()
    pat = regex.compile(r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""", regex.IGNORECASE)
    words = collections.Counter()
    for tok in regex.findall(pat, module.whitespace_clean(corpus).lower()):
        chars = ''.join(byte_encoder[b] for b in tok.encode('utf-8'))
        words[tuple(chars[:-1]) + (chars[-1] + '</w>',)] += 1
    merges = []
    for _ in range(num_merges):
        pairs = collections.Counter()
        for word, freq in words.items():
            for a, b in zip(word, word[1:]):
                pairs[(a, b)] += freq
        if not pairs:
            break
        best = max(sorted(pairs), key=lambda p: pairs[p])
        merges.append(best)
        new_words = collections.Counter()
        for word, freq in words.items():
            out, i = [], 0
            while i < len(word):
                if i < len(word) - 1 and (word[i], word[i + 1]) == best:
                    out.append(word[i] + word[i + 1])
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            new_words[tuple(out)] += freq
        words = new_words
    return merges


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--clip-repo', required=True)
    ap.add_argument('--merges', type=int, default=300)
    args = ap.parse_args()
    module, rev = load_clip_tokenizer(args.clip_repo)
    merges = learn_merges(module, CORPUS, args.merges)
    with tempfile.TemporaryDirectory() as tmp:
        bpe = os.path.join(tmp, 'toy.txt.gz')
        with gzip.open(bpe, 'wb') as f:  # first line is skipped by SimpleTokenizer; no trailing newline
            f.write(('#version: 0.2\n' + '\n'.join(f'{a} {b}' for a, b in merges)).encode('utf-8'))
        tok = module.SimpleTokenizer(bpe)
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, 'toy-vocab.json'), 'w', encoding='utf-8') as f:
        json.dump(tok.encoder, f, ensure_ascii=False)
    with open(os.path.join(OUT, 'toy-merges.txt'), 'w', encoding='utf-8') as f:
        f.write('#version: 0.2\n' + ''.join(f'{a} {b}\n' for a, b in merges))
    sot, eot = tok.encoder['<|startoftext|>'], tok.encoder['<|endoftext|>']
    cases = []
    for text in CASES:
        ids = tok.encode(text)
        row = [sot] + ids + [eot]
        truncated = row[:77]
        truncated[-1] = eot  # CLIP's tokenize(truncate=True)
        cases.append({'text': text, 'ids': ids, 'truncated77': truncated + [0] * (77 - len(truncated))})
    import regex
    golden = {
        'script': 'tools/reference/text-tokenizer.py',
        'reference': f'openai/CLIP clip/simple_tokenizer.py @ {rev} (ftfy.fix_text replaced by identity)',
        'versions': {'python': sys.version.split()[0], 'regex': regex.__version__},
        'numMerges': len(merges),
        'vocabSize': len(tok.encoder),
        'cases': cases,
    }
    with open(os.path.join(OUT, 'tokenizer-cases.json'), 'w', encoding='utf-8') as f:
        json.dump(golden, f, ensure_ascii=False, indent=1)
    print(f'{len(merges)} merges, vocab {len(tok.encoder)}, {len(cases)} cases -> {os.path.abspath(OUT)}')


if __name__ == '__main__':
    main()
