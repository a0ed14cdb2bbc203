#!/usr/bin/env python3
"""Write tools/train/tokenizer_cases.json: prompts and the ids the studio's tokenizer must produce."""
import json, os, sys
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from tokenizer import encode, pre_tokenize, load_vocab

PROMPTS = [
    '', ' ', 'red apple', 'Red Apple', 'RED APPLE ON A BLUE BACKGROUND', 'red apple on a blue background, food and drink',
    'red apple,food and drink', 'apple, , ,', 'grinning face', 'cat face on a white background', 'pizza!!!', '  pizza   on  \t black\n',
    'zebra-striped xylophone', 'qwertyuiop asdf', 'smiling face with heart-shaped eyes', "person's hat", 'T-Rex on a green background',
    'rocket 🚀 on a black background', '... ,,, !!!', 'hello_world foo_bar', 'red apple on a blue background, food and drink, extra words here to overflow',
    'one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen',
    'a a a a a a a a a a a a a a a a a a a a', 'ORANGE background', 'face with tears of joy', 'heavy black heart',
    'numbers 1 2 3 100', 'café au lait', 'soccer ball, activities', 'symbols on a purple background', 'red-apple', '(red) [apple] {x}',
]

if __name__ == '__main__':
    vocab = load_vocab(sys.argv[1]) if len(sys.argv) > 1 else json.load(open(os.path.join(HERE, '.cache', 'vocab.json')))
    cases = [{'prompt': p, 'words': pre_tokenize(p), 'ids': encode(p, vocab)} for p in PROMPTS]
    out = {'description': 'lowercase -> regex split \\w+|[^\\w\\s]+ (Unicode \\w, as Python re / Rust regex) -> WordLevel lookup '
                          '(<unk>=1 for misses) -> truncate to 16 -> pad with <pad>=0. Vocabulary: resources/models/noto-emoji-32/tokenizer/tokenizer.json',
           'max_length': 16, 'pad_id': 0, 'unk_id': 1, 'vocab_size': len(vocab), 'cases': cases}
    json.dump(out, open(os.path.join(HERE, 'tokenizer_cases.json'), 'w'), ensure_ascii=False, indent=1)
    print(len(cases), 'cases')
