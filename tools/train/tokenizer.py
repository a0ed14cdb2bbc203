"""Word-level tokenizer, written by hand (no dependency on the `tokenizers` library).

encode(): lowercase -> regex split \\w+|[^\\w\\s]+ -> vocab lookup (<unk> for misses)
-> truncate to 16 -> pad with 0 (<pad>). Same as the studio's TypeScript tokenizer and as
Hugging Face tokenizers with the tokenizer.json written below (Lowercase normalizer,
Whitespace pre-tokenizer, WordLevel model, fixed padding/truncation to 16).
Note Python's \\w is Unicode-aware, as is the Rust regex crate's; the TypeScript side must use
the /u flag with [\\p{L}\\p{N}_\\p{M}...] equivalents if non-ASCII prompts matter.
"""
import json, os, re

MAX_LEN = 16
PAD, UNK = '<pad>', '<unk>'
SPLIT = re.compile(r'\w+|[^\w\s]+')


def pre_tokenize(text):
    return SPLIT.findall(text.lower())


def build_vocab(texts):
    vocab = {PAD: 0, UNK: 1}
    words = sorted({w for t in texts for w in pre_tokenize(t)})
    for w in words:
        if w not in vocab:
            vocab[w] = len(vocab)
    return vocab


def encode(text, vocab, max_len=MAX_LEN):
    ids = [vocab.get(w, vocab[UNK]) for w in pre_tokenize(text)][:max_len]
    return ids + [vocab[PAD]] * (max_len - len(ids))


def tokenizer_json(vocab, max_len=MAX_LEN):
    return {
        'version': '1.0',
        'truncation': {'direction': 'Right', 'max_length': max_len, 'strategy': 'LongestFirst', 'stride': 0},
        'padding': {'strategy': {'Fixed': max_len}, 'direction': 'Right', 'pad_to_multiple_of': None,
                    'pad_id': 0, 'pad_type_id': 0, 'pad_token': PAD},
        'added_tokens': [
            {'id': 0, 'content': PAD, 'single_word': False, 'lstrip': False, 'rstrip': False, 'normalized': False, 'special': True},
            {'id': 1, 'content': UNK, 'single_word': False, 'lstrip': False, 'rstrip': False, 'normalized': False, 'special': True},
        ],
        'normalizer': {'type': 'Lowercase'},
        'pre_tokenizer': {'type': 'Whitespace'},
        'post_processor': None,
        'decoder': None,
        'model': {'type': 'WordLevel', 'vocab': vocab, 'unk_token': UNK},
    }


def write_tokenizer_files(vocab, folder):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, 'tokenizer.json'), 'w') as f:
        json.dump(tokenizer_json(vocab), f, ensure_ascii=False, indent=1)
    with open(os.path.join(folder, 'tokenizer_config.json'), 'w') as f:
        json.dump({'model_max_length': MAX_LEN, 'pad_token': PAD, 'unk_token': UNK, 'do_lower_case': True}, f, indent=1)


def load_vocab(tokenizer_json_path):
    return json.load(open(tokenizer_json_path))['model']['vocab']
