#!/usr/bin/env python3
"""Train text encoder + UNet jointly (epsilon prediction, linear betas 1e-4..0.02, T=1000).
Stops after --minutes of wall time; writes a checkpoint (incl. EMA weights) every --ckpt-min."""
import argparse, copy, json, math, os, random, sys, time
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import DiffusionModel, linear_alphas_cumprod
from common import EmojiData, HERE

CONFIG = dict(text_dim=128, text_layers=3, ch=[32, 96, 160])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', default=os.path.join(HERE, '.cache', 'dataset.npz'))
    ap.add_argument('--vocab', default=os.path.join(HERE, '.cache', 'vocab.json'))
    ap.add_argument('--out', default=os.path.join(HERE, '.cache', 'diffusion.pt'))
    ap.add_argument('--minutes', type=float, default=60)
    ap.add_argument('--ckpt-min', type=float, default=4)
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--lr', type=float, default=4e-4)
    ap.add_argument('--ema', type=float, default=0.999)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--seed', type=int, default=1234)
    ap.add_argument('--resume', action='store_true')
    ap.add_argument('--min-snr', type=float, default=0.0,
                    help='Min-SNR-gamma loss weighting min(SNR, gamma)/SNR on the epsilon MSE (0 = plain MSE)')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed); np.random.seed(args.seed)
    rng = random.Random(args.seed); gen = torch.Generator().manual_seed(args.seed)
    vocab = json.load(open(args.vocab))
    data = EmojiData(args.data, vocab)
    model = DiffusionModel(len(vocab), CONFIG['text_dim'], CONFIG['text_layers'], tuple(CONFIG['ch']))
    ema = copy.deepcopy(model).requires_grad_(False)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
    step, elapsed0, losses, history = 0, 0.0, [], []
    if args.resume and os.path.exists(args.out):
        ck = torch.load(args.out)
        model.load_state_dict(ck['model']); ema.load_state_dict(ck['ema']); opt.load_state_dict(ck['opt'])
        step, elapsed0, losses = ck['step'], ck['elapsed'], ck['losses']
        history = ck.get('history', []) + [dict(args=ck['args'], until_step=step)]
        print('resumed at step', step, flush=True)
    print('params unet', sum(p.numel() for p in model.unet.parameters()), 'text', sum(p.numel() for p in model.text.parameters()), flush=True)
    abar = linear_alphas_cumprod()
    t_start = time.time(); last_ck = t_start; run = []

    def save():
        tmp = args.out + '.tmp'
        torch.save(dict(model=model.state_dict(), ema=ema.state_dict(), opt=opt.state_dict(), step=step,
                        elapsed=elapsed0 + time.time() - t_start, losses=losses, history=history, config=CONFIG, vocab_size=len(vocab),
                        args=vars(args)), tmp)
        os.replace(tmp, args.out)

    while True:
        now = time.time()
        if now - t_start > args.minutes * 60:
            break
        x0, ids, _ = data.batch(args.batch, rng, gen)
        t = torch.randint(0, 1000, (args.batch,), generator=gen)
        noise = torch.randn(x0.shape, generator=gen)
        a = abar[t][:, None, None, None]
        xt = a.sqrt() * x0 + (1 - a).sqrt() * noise
        lr = args.lr * min(1.0, (step + 1) / 200)
        for g in opt.param_groups:
            g['lr'] = lr
        if args.min_snr > 0:
            snr = abar[t] / (1 - abar[t])
            w = torch.clamp(snr, max=args.min_snr) / snr
            loss = ((model(xt, t, ids) - noise) ** 2).mean((1, 2, 3)).mul(w).mean()
        else:
            loss = F.mse_loss(model(xt, t, ids), noise)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        d = min(args.ema, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.mul_(d).add_(pm.detach(), alpha=1 - d)
        step += 1
        run.append(loss.item())
        if step % 50 == 0:
            m = float(np.mean(run)); run = []
            losses.append((step, round(elapsed0 + time.time() - t_start, 1), m))
            print(f'step {step} t {elapsed0 + time.time() - t_start:.0f}s loss {m:.4f} lr {lr:.2e}', flush=True)
        if time.time() - last_ck > args.ckpt_min * 60:
            save(); last_ck = time.time()
            print('checkpoint', step, flush=True)
    save()
    print('done', step, 'steps', f'{elapsed0 + time.time() - t_start:.0f}s', flush=True)


if __name__ == '__main__':
    main()
