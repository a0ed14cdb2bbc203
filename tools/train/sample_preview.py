#!/usr/bin/env python3
"""Preview grid with torch: DDIM (eta 0), 50 steps, classifier-free guidance, 8 prompts x N seeds.
    /usr/bin/python3 tools/train/sample_preview.py --out /tmp/preview.png [--which ema|model] [--guidance 4]"""
import argparse, json, os, sys
import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from model import linear_alphas_cumprod
from tokenizer import encode
from export_onnx import load_diffusion

PROMPTS = ['red apple on a blue background', 'grinning face on a yellow background', 'cat face, animals and nature',
           'rocket on a black background', 'pizza on a white background', 'red heart on a green background',
           'soccer ball on a purple background', 'house, travel and places']


@torch.no_grad()
def ddim(model, ids, guidance, steps=50, seed=0, abar=None):
    B = ids.shape[0]
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(B, 3, 32, 32, generator=g)
    cond = model.text(ids)
    unc = model.text(torch.zeros_like(ids))
    ts = np.linspace(0, 999, steps).round().astype(np.int64)[::-1]  # linspace spacing
    for i, t in enumerate(ts):
        tt = torch.full((B,), int(t), dtype=torch.int64)
        e = model.unet(torch.cat([x, x]), torch.cat([tt, tt]), torch.cat([unc, cond]))
        eu, ec = e.chunk(2)
        eps = eu + guidance * (ec - eu)
        a = abar[t]
        a_prev = abar[ts[i + 1]] if i + 1 < len(ts) else torch.tensor(1.0)
        x0 = ((x - (1 - a).sqrt() * eps) / a.sqrt()).clamp(-1, 1)
        eps = (x - a.sqrt() * x0) / (1 - a).sqrt()
        x = a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps
    return x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ckpt', default=os.path.join(HERE, '.cache', 'diffusion.pt'))
    ap.add_argument('--vocab', default=os.path.join(HERE, '.cache', 'vocab.json'))
    ap.add_argument('--out', default='/tmp/noto_emoji_preview.png')
    ap.add_argument('--which', default='ema')
    ap.add_argument('--guidance', type=float, nargs='+', default=[4.0])
    ap.add_argument('--seeds', type=int, default=4)
    ap.add_argument('--threads', type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    vocab = json.load(open(args.vocab))
    model, ck = load_diffusion(args.ckpt, args.which)
    abar = linear_alphas_cumprod()
    rows = []
    for gscale in args.guidance:
        ids = torch.tensor([encode(p, vocab) for p in PROMPTS for _ in range(args.seeds)])
        x = ddim(model, ids, gscale, abar=abar)
        rows.append(x)
    x = torch.cat(rows)
    img = ((x.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()
    n_cols = args.seeds * len(args.guidance)
    # layout: one row per prompt; columns = guidance x seeds
    per = len(PROMPTS) * args.seeds
    grid = np.full((len(PROMPTS) * 34, n_cols * 34, 3), 128, np.uint8)
    for gi in range(len(args.guidance)):
        for p in range(len(PROMPTS)):
            for s in range(args.seeds):
                im = img[gi * per + p * args.seeds + s]
                r, c = p, gi * args.seeds + s
                grid[r * 34 + 1:r * 34 + 33, c * 34 + 1:c * 34 + 33] = im
    Image.fromarray(grid).resize((grid.shape[1] * 4, grid.shape[0] * 4), Image.NEAREST).save(args.out)
    print('step', ck['step'], 'wrote', args.out, 'rows:', PROMPTS, 'cols: guidance', args.guidance, 'x', args.seeds, 'seeds')


if __name__ == '__main__':
    main()
