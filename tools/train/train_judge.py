#!/usr/bin/env python3
"""The independent judge for measuring the default model: a classifier of emoji groups on clean
32x32 Noto renders. It is never used for guidance, and differs from the guidance classifier
(model.py NoisyClassifier) in everything that could make the two share blind spots:
 - architecture: a small ResNet (stride-2 stem, 16x16 onward) with BatchNorm and dropout (the guidance classifier is a plain
   conv stack without normalisation, conditioned on the timestep);
 - data: clean images only, on the 8 caption backgrounds and on random colours, with random
   shifts, zoom, blur and pixel noise (so it judges smooth generated pictures, not only crisp
   renders);
 - split and seed: its own 85/15 split of the emoji by seed 77 (validation accuracy reported).
Writes tools/train/judge/noto-group-judge.onnx (input `image` [B,3,32,32] in [-1,1], output
`logits` [B,8]) and judge.json (groups, validation accuracy, training record)."""
import argparse, json, os, sys, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from captions import BG_RGB, GROUPS

OUT = os.path.join(HERE, 'judge')


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout)
        self.skip = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)) if (stride != 1 or cin != cout) else nn.Identity()

    def forward(self, x):
        h = F.relu(self.b1(self.c1(x)))
        return F.relu(self.b2(self.c2(h)) + self.skip(x))


class Judge(nn.Module):
    def __init__(self, classes=8, widths=(32, 64, 128)):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, widths[0], 3, 2, 1, bias=False), nn.BatchNorm2d(widths[0]), nn.ReLU())
        layers, cin = [], widths[0]
        for i, w in enumerate(widths):
            layers += [Block(cin, w, 1 if i == 0 else 2), Block(w, w, 1)]
            cin = w
        self.body = nn.Sequential(*layers)
        self.drop = nn.Dropout(0.2)
        self.head = nn.Linear(cin, classes)

    def forward(self, image):
        return self.head(self.drop(self.body(self.stem(image)).mean((2, 3))))


def composite(images, bg_rgb):
    """premultiplied RGBA [B,4,32,32] over per-sample RGB [B,3] -> [-1, 1]."""
    rgb = images[:, :3] + (1 - images[:, 3:4]) * bg_rgb[:, :, None, None]
    return rgb * 2 - 1


def augment(images, gen):
    B = images.shape[0]
    palette = torch.from_numpy(BG_RGB)
    bg = palette[torch.randint(0, len(BG_RGB), (B,), generator=gen)]
    random_colour = torch.rand(B, 3, generator=gen)
    use_random = (torch.rand(B, generator=gen) < 0.4)[:, None]
    bg = torch.where(use_random, random_colour, bg)
    # zoom 0.8-1.15 and shift +-3 px, per sample, on the premultiplied image (background stays flat)
    scale = 0.8 + 0.35 * torch.rand(B, generator=gen)
    shift = (torch.rand(B, 2, generator=gen) * 2 - 1) * (3 / 16)
    theta = torch.zeros(B, 2, 3)
    theta[:, 0, 0] = 1 / scale
    theta[:, 1, 1] = 1 / scale
    theta[:, :, 2] = shift
    grid = F.affine_grid(theta, images.shape, align_corners=False)
    moved = F.grid_sample(images, grid, mode='bilinear', padding_mode='zeros', align_corners=False)
    x = composite(moved, bg)
    flip = torch.rand(B, generator=gen) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    blur = torch.rand(B, generator=gen) < 0.3
    blurred = F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode='replicate'), 3, 1)
    x = torch.where(blur[:, None, None, None], blurred, x)
    x = x + torch.randn(x.shape, generator=gen) * (0.08 * torch.rand(B, 1, 1, 1, generator=gen))
    return x.clamp(-1, 1)


@torch.no_grad()
def accuracy(model, images, groups):
    model.eval()
    correct = total = 0
    for k in range(len(BG_RGB)):
        bg = torch.from_numpy(BG_RGB)[k].expand(len(images), 3)
        pred = model(composite(images, bg)).argmax(1)
        correct += (pred == groups).sum().item(); total += len(groups)
    model.train()
    return correct / total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', default=os.path.join(HERE, '.cache', 'dataset.npz'))
    ap.add_argument('--minutes', type=float, default=6)
    ap.add_argument('--batch', type=int, default=64)
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--seed', type=int, default=77)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    d = np.load(args.data)
    images = torch.from_numpy(d['images'].astype(np.float32))
    groups = torch.from_numpy(d['group'])
    order = np.random.RandomState(args.seed).permutation(len(groups))
    n_val = int(0.15 * len(groups))
    val, train = order[:n_val], order[n_val:]
    model = Judge()
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=5e-4)
    started = time.time(); step = 0; record = []
    total_s = args.minutes * 60
    while time.time() - started < total_s:
        idx = torch.from_numpy(train[torch.randint(0, len(train), (args.batch,), generator=gen).numpy()])
        x = augment(images[idx], gen)
        frac = (time.time() - started) / total_s
        for g in opt.param_groups:
            g['lr'] = args.lr * 0.5 * (1 + np.cos(np.pi * min(1.0, frac)))
        loss = F.cross_entropy(model(x), groups[idx], label_smoothing=0.05)
        opt.zero_grad(); loss.backward(); opt.step()
        step += 1
        if step % 200 == 0:
            acc = accuracy(model, images[val], groups[val])
            record.append((step, round(time.time() - started), round(loss.item(), 4), round(acc, 4)))
            print(f'step {step} t {time.time() - started:.0f}s loss {loss.item():.3f} val acc {acc:.3f}', flush=True)
    model.eval()
    val_acc = accuracy(model, images[val], groups[val])
    train_acc = accuracy(model, images[train[:400]], groups[train[:400]])
    os.makedirs(OUT, exist_ok=True)
    torch.onnx.export(model, torch.zeros(1, 3, 32, 32), os.path.join(OUT, 'noto-group-judge.onnx'), input_names=['image'], output_names=['logits'],
                      dynamic_axes={'image': {0: 'batch'}, 'logits': {0: 'batch'}}, opset_version=17)
    info = dict(groups=GROUPS, input='image [B,3,32,32] in [-1,1] (RGB)', output='logits [B,8]',
                validation=dict(emoji=int(n_val), accuracy_on_8_backgrounds=round(val_acc, 4), split_seed=args.seed),
                train_accuracy_sample=round(train_acc, 4), steps=step, minutes=round((time.time() - started) / 60, 1), batch=args.batch,
                record=record, params=sum(p.numel() for p in model.parameters()),
                trained_by='tools/train/train_judge.py', data='tools/train/.cache/dataset.npz (make_dataset.py)')
    json.dump(info, open(os.path.join(OUT, 'judge.json'), 'w'), indent=1)
    print('done', step, 'steps, validation accuracy', val_acc, flush=True)


if __name__ == '__main__':
    main()
