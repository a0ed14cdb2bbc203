#!/usr/bin/env python3
"""Train the noisy group classifier p(group | x_t, t) on emoji composited on random
backgrounds, noised at uniform random t (same linear schedule as the UNet). 10% of the
emoji (held_out in dataset.npz) are never trained on and are used for the accuracy report."""
import argparse, json, os, random, sys, time
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import NoisyClassifier, linear_alphas_cumprod
from captions import GROUPS
from common import EmojiData, HERE

CONFIG = dict(widths=[48, 64, 96, 128, 160], temb_dim=64)


def augment(x, gen):
    B = x.shape[0]
    flip = torch.rand(B, generator=gen) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    xp = F.pad(x, (2, 2, 2, 2), mode='replicate')
    dx, dy = torch.randint(0, 5, (2,), generator=gen).tolist()  # same shift per batch (cheap)
    return xp[:, :, dy:dy + 32, dx:dx + 32]


@torch.no_grad()
def evaluate(clf, data, abar, ts=(0, 100, 250, 500, 750, 900), reps=4, seed=0):
    gen = torch.Generator().manual_seed(seed)
    idx = torch.from_numpy(data.index)
    res = {}
    for t in ts:
        correct = total = 0
        for r in range(reps):
            bg = torch.full((len(idx),), r * 2 % 8) + torch.randint(0, 2, (len(idx),), generator=gen)
            x0 = data.composite(idx, bg)
            a = abar[t]
            xt = a.sqrt() * x0 + (1 - a).sqrt() * torch.randn(x0.shape, generator=gen)
            pred = clf(xt, torch.full((len(idx),), float(t))).argmax(1)
            correct += (pred == data.group[idx]).sum().item(); total += len(idx)
        res[t] = correct / total
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', default=os.path.join(HERE, '.cache', 'dataset.npz'))
    ap.add_argument('--out', default=os.path.join(HERE, '.cache', 'classifier.pt'))
    ap.add_argument('--minutes', type=float, default=10)
    ap.add_argument('--batch', type=int, default=64)
    ap.add_argument('--lr', type=float, default=1e-3)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--seed', type=int, default=4321)
    ap.add_argument('--init', default=None, help='warm start from a classifier checkpoint (continue training)')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed); np.random.seed(args.seed)
    rng = random.Random(args.seed); gen = torch.Generator().manual_seed(args.seed)
    train = EmojiData(args.data, {}, only=lambda d: ~d.held_out)
    held = EmojiData(args.data, {}, only=lambda d: d.held_out)
    clf = NoisyClassifier(len(GROUPS), tuple(CONFIG['widths']), CONFIG['temb_dim'])
    prev_steps = prev_s = 0
    if args.init:
        ck = torch.load(args.init)
        clf.load_state_dict(ck['model'])
        prev_steps, prev_s = ck['step'], ck['elapsed']
        print('warm start from', args.init, 'after', prev_steps, 'steps', flush=True)
    print('params', sum(p.numel() for p in clf.parameters()), 'train emoji', len(train.index), 'held-out', len(held.index), flush=True)
    opt = torch.optim.AdamW(clf.parameters(), lr=args.lr, weight_decay=1e-4)
    abar = linear_alphas_cumprod()
    t0 = time.time(); step = 0; run = []; log = []
    total_s = args.minutes * 60
    while time.time() - t0 < total_s:
        x0, y = train.batch(args.batch, rng, gen, with_text=False)
        x0 = augment(x0, gen)
        t = torch.randint(0, 1000, (args.batch,), generator=gen)
        a = abar[t][:, None, None, None]
        xt = a.sqrt() * x0 + (1 - a).sqrt() * torch.randn(x0.shape, generator=gen)
        frac = (time.time() - t0) / total_s
        lr = args.lr * min(1.0, (step + 1) / 100) * (0.5 * (1 + np.cos(np.pi * min(frac, 1.0))) * 0.95 + 0.05)
        for g in opt.param_groups:
            g['lr'] = lr
        loss = F.cross_entropy(clf(xt, t.float()), y)
        opt.zero_grad(set_to_none=True); loss.backward()
        torch.nn.utils.clip_grad_norm_(clf.parameters(), 1.0); opt.step()
        step += 1; run.append(loss.item())
        if step % 200 == 0:
            m = float(np.mean(run)); run = []
            log.append((step, round(time.time() - t0, 1), m))
            print(f'step {step} t {time.time() - t0:.0f}s loss {m:.4f} lr {lr:.2e}', flush=True)
    clf.eval()
    acc_held = evaluate(clf, held, abar)
    train.index = train.index[::3]  # subsample for a quicker report
    acc_train = evaluate(clf, train, abar, reps=1)
    print('held-out accuracy by t', acc_held, flush=True)
    print('train accuracy by t', acc_train, flush=True)
    torch.save(dict(model=clf.state_dict(), config=CONFIG, labels=GROUPS, step=prev_steps + step, elapsed=prev_s + time.time() - t0, losses=log,
                    acc_held_out=acc_held, acc_train=acc_train, args=vars(args)), args.out)
    print('done', step, 'steps', f'{time.time() - t0:.0f}s', flush=True)


if __name__ == '__main__':
    main()
