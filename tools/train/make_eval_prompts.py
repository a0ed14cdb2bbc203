#!/usr/bin/env python3
"""The 24 evaluation prompts of the default model: "<emoji name> on a <colour> background", three
emoji per group, the first of each group held out of the diffusion model's training (dataset.npz
held_out), the other two seen in training; backgrounds cycle through the 8 caption colours.
Deterministic (seed 5). Writes tools/train/judge/eval_prompts.json, read by
`npm run docs:default-model`."""
import json, os, random, sys
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from captions import BACKGROUNDS, BG_NAMES, GROUPS

d = np.load(os.path.join(HERE, '.cache', 'dataset.npz'))
names, groups, held = list(d['names']), d['group'], d['held_out']
rng = random.Random(5)
prompts = []
for g in range(len(GROUPS)):
    # Short, plain names (one or two words) read best as prompts.
    pool = [i for i in range(len(names)) if groups[i] == g and len(names[i].split()) <= 2 and names[i].isascii()]
    chosen = [rng.choice([i for i in pool if held[i]])] + rng.sample([i for i in pool if not held[i]], 2)
    for i in chosen:
        bg = BG_NAMES[len(prompts) % len(BG_NAMES)]
        prompts.append(dict(prompt=f'{names[i]} on a {bg} background', name=names[i], group=g, background=bg, held_out=bool(held[i])))
json.dump(dict(groups=GROUPS, backgrounds={k: list(v) for k, v in BACKGROUNDS.items()}, prompts=prompts), open(os.path.join(HERE, 'judge', 'eval_prompts.json'), 'w'), indent=1)
print('\n'.join(p['prompt'] + (' (held out)' if p['held_out'] else '') for p in prompts))
