#!/usr/bin/env python3
"""Build the Noto-emoji 32x32 dataset, the caption vocabulary and the tokenizer.

Source: the 64x64 PNGs of the npm package emoji-datasource-google@16.0.0, which are
Google's Noto Color Emoji images (Apache-2.0, Google); the package metadata (emoji.json)
is MIT (Cal Henderson / iamcal). Fetch it first:

    mkdir -p /tmp/emoji && cd /tmp/emoji && npm pack emoji-datasource-google@16.0.0 \
      && tar xzf emoji-datasource-google-16.0.0.tgz

Then: /usr/bin/python3 tools/train/make_dataset.py --src /tmp/emoji/package --out tools/train/.cache

Output (.cache/dataset.npz): premultiplied RGBA float16 [N,4,32,32] in [0,1] (2x2 box
downsample of the 64x64 PNG; compositing is linear, so compositing the 32x32 premultiplied
image onto a background equals box-downsampling the 64x64 composite), names, groups,
short names, plus a held-out flag (10% of emoji, used only to evaluate the classifier).
Backgrounds are composited at training time (see captions.py).
"""
import argparse, hashlib, json, os, random, sys
import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from captions import GROUPS, group_phrase, all_caption_words, clean_name
from tokenizer import build_vocab, write_tokenizer_files

SEED = 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--src', default='/tmp/emoji/package')
    ap.add_argument('--out', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '.cache'))
    ap.add_argument('--tokenizer-out', default=None, help='also write tokenizer/ into this model folder')
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    meta = json.load(open(os.path.join(args.src, 'emoji.json')))
    pkg = json.load(open(os.path.join(args.src, 'package.json')))
    sel = []
    for e in meta:
        cps = e['unified'].upper().replace('-FE0F', '').split('-')
        if len(cps) != 1:  # single codepoint only: no ZWJ sequences, keycaps, flags, skin tones
            continue
        if not e.get('has_img_google') or e['category'] not in GROUPS:
            continue
        path = os.path.join(args.src, 'img', 'google', '64', e['image'])
        if not os.path.exists(path):
            continue
        sel.append((e, path))
    sel.sort(key=lambda p: p[0]['sort_order'])
    imgs, names, groups, shorts, files = [], [], [], [], []
    h = hashlib.sha256()
    for e, path in sel:
        im = Image.open(path).convert('RGBA')
        assert im.size == (64, 64), (path, im.size)
        a = np.asarray(im).astype(np.float64) / 255.0
        pm = np.concatenate([a[..., :3] * a[..., 3:4], a[..., 3:4]], -1)  # premultiplied
        pm = pm.reshape(32, 2, 32, 2, 4).mean((1, 3))  # 2x2 box filter
        imgs.append(pm.transpose(2, 0, 1).astype(np.float16))
        names.append(clean_name(e['name']))
        groups.append(GROUPS.index(e['category']))
        shorts.append(' '.join(s.replace('_', ' ') for s in e['short_names'][:1]))
        files.append(e['image'])
        h.update(open(path, 'rb').read())
    rng = random.Random(SEED)
    idx = list(range(len(sel)))
    rng.shuffle(idx)
    held = np.zeros(len(sel), bool)
    held[idx[: len(sel) // 10]] = True
    np.savez_compressed(os.path.join(args.out, 'dataset.npz'), images=np.stack(imgs), group=np.array(groups, np.int64),
                        held_out=held, names=np.array(names), shorts=np.array(shorts), files=np.array(files))
    counts = {g: int(sum(1 for x in groups if x == i)) for i, g in enumerate(GROUPS)}
    vocab = build_vocab(all_caption_words(names, shorts))
    prov = {
        'source': f"npm package {pkg['name']}@{pkg['version']} (img/google/64/*.png)",
        'images_license': 'Noto Color Emoji images: Apache-2.0, Copyright Google Inc. (https://github.com/googlefonts/noto-emoji)',
        'metadata_license': 'emoji.json from iamcal/emoji-data: MIT, Copyright (c) 2013 Cal Henderson',
        'selection': 'single-codepoint emoji (U+FE0F ignored) with a Google image, groups: ' + ', '.join(GROUPS) +
                     '; no ZWJ sequences, keycaps, skin-tone variants, flags or components',
        'num_emoji': len(sel), 'groups': counts, 'held_out_for_classifier_eval': int(held.sum()),
        'sha256_of_png_bytes_in_order': h.hexdigest(), 'vocab_size': len(vocab), 'seed': SEED,
    }
    json.dump(prov, open(os.path.join(args.out, 'provenance.json'), 'w'), indent=1)
    json.dump(vocab, open(os.path.join(args.out, 'vocab.json'), 'w'), indent=0)
    if args.tokenizer_out:
        write_tokenizer_files(vocab, args.tokenizer_out)
    print(json.dumps(prov, indent=1))


if __name__ == '__main__':
    main()
