#!/usr/bin/env python3
"""Train text encoder + UNet jointly (epsilon prediction, linear betas 1e-4..0.02, T=1000).

Stops after --minutes of wall time (or --max-steps); writes a full checkpoint (.cache/diffusion.pt:
weights, EMA, Adam state) every --ckpt-min, and a compact one (checkpoint/noto-emoji-32.resume.pt:
weights and EMA in fp16, step, loss record) that is committed to the repository so that training
can go on in a later session on a fresh machine. The learning rate follows a cosine decay over
--total-steps (long runs spread over several sessions share one schedule)."""
import argparse, copy, json, math, os, random, sys, time
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import DiffusionModel, linear_alphas_cumprod
from common import EmojiData, HERE

CONFIG = dict(text_dim=128, text_layers=3, ch=[32, 96, 160])
COMPACT = os.path.join(HERE, 'checkpoint', 'noto-emoji-32.resume.pt')


def learning_rate(step, args, warm_from=0):
    """Linear warm-up (200 steps, again after a resume without optimizer state), then a cosine
    decay from --lr to --lr-min over --total-steps."""
    warm = min(1.0, (step - warm_from + 1) / 200)
    p = min(step, args.total_steps) / args.total_steps
    return warm * (args.lr_min + (args.lr - args.lr_min) * 0.5 * (1 + math.cos(math.pi * p)))


def save_compact(path, model, ema, step, elapsed, losses, history, vocab_size, args):
    """fp16 weights + EMA: ~10 MB per copy. Adam's moments are not kept (they rebuild within the
    warm-up that follows a compact resume)."""
    half = lambda sd: {k: (v.half() if v.is_floating_point() else v) for k, v in sd.items()}
    tmp = path + '.tmp'
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.save(dict(model=half(model.state_dict()), ema=half(ema.state_dict()), step=step, elapsed=elapsed,
                    losses=losses, history=history, config=CONFIG, vocab_size=vocab_size,
                    args={k: v for k, v in vars(args).items() if not isinstance(v, str) or len(v) < 200}), tmp)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', default=os.path.join(HERE, '.cache', 'dataset.npz'))
    ap.add_argument('--vocab', default=os.path.join(HERE, '.cache', 'vocab.json'))
    ap.add_argument('--out', default=os.path.join(HERE, '.cache', 'diffusion.pt'))
    ap.add_argument('--minutes', type=float, default=60)
    ap.add_argument('--ckpt-min', type=float, default=4)
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--lr', type=float, default=4e-4)
    ap.add_argument('--lr-min', type=float, default=4e-5)
    ap.add_argument('--total-steps', type=int, default=30000, help='length of the cosine learning-rate decay')
    ap.add_argument('--max-steps', type=int, default=0, help='stop at this step (0: only --minutes)')
    ap.add_argument('--compact', default=COMPACT, help='compact checkpoint written beside the full one and read by --resume when no full one exists')
    ap.add_argument('--bf16', action='store_true', help='bfloat16 autocast for the forward pass')
    ap.add_argument('--channels-last', action='store_true')
    ap.add_argument('--include-held-out', action='store_true',
                    help='also train on the 10%% held-out emoji (by default they are kept for evaluation)')
    ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
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
    data = EmojiData(args.data, vocab, only=None if args.include_held_out else (lambda d: ~d.held_out))
    print('training emoji', len(data.index), flush=True)
    dev = torch.device(args.device)
    model = DiffusionModel(len(vocab), CONFIG['text_dim'], CONFIG['text_layers'], tuple(CONFIG['ch']))
    ema = copy.deepcopy(model).requires_grad_(False)
    step, elapsed0, losses, history, warm_from, opt_state = 0, 0.0, [], [], 0, None
    if args.resume and os.path.exists(args.out):
        ck = torch.load(args.out, map_location='cpu')
        model.load_state_dict(ck['model']); ema.load_state_dict(ck['ema']); opt_state = ck['opt']
        step, elapsed0, losses = ck['step'], ck['elapsed'], ck['losses']
        history = ck.get('history', []) + [dict(args=ck['args'], until_step=step)]
        print('resumed at step', step, flush=True)
    elif args.resume and os.path.exists(args.compact):
        ck = torch.load(args.compact, map_location='cpu')
        as32 = lambda sd: {k: v.float() if v.is_floating_point() else v for k, v in sd.items()}
        model.load_state_dict(as32(ck['model'])); ema.load_state_dict(as32(ck['ema']))
        step, elapsed0, losses = ck['step'], ck['elapsed'], ck['losses']
        history = ck.get('history', []) + [dict(args=ck['args'], until_step=step)]
        warm_from = step
        print('resumed from the compact checkpoint at step', step, flush=True)
    elif args.resume:
        sys.exit('--resume: neither ' + args.out + ' nor ' + args.compact + ' exists')
    model.to(dev); ema.to(dev)
    if args.channels_last:
        model.to(memory_format=torch.channels_last); ema.to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
    if opt_state is not None:
        opt.load_state_dict(opt_state)  # moves the moments to the parameters' device
    print('params unet', sum(p.numel() for p in model.unet.parameters()), 'text', sum(p.numel() for p in model.text.parameters()), flush=True)
    abar = linear_alphas_cumprod()
    t_start = time.time(); last_ck = t_start; run = []

    def save():
        tmp = args.out + '.tmp'
        elapsed = elapsed0 + time.time() - t_start
        torch.save(dict(model=model.state_dict(), ema=ema.state_dict(), opt=opt.state_dict(), step=step,
                        elapsed=elapsed, losses=losses, history=history, config=CONFIG, vocab_size=len(vocab),
                        args=vars(args)), tmp)
        os.replace(tmp, args.out)
        save_compact(args.compact, model, ema, step, elapsed, losses, history, len(vocab), args)

    autocast = torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=args.bf16)
    while True:
        if time.time() - t_start > args.minutes * 60 or (args.max_steps and step >= args.max_steps):
            break
        x0, ids, _ = data.batch(args.batch, rng, gen)
        t = torch.randint(0, 1000, (args.batch,), generator=gen)
        noise = torch.randn(x0.shape, generator=gen)
        a = abar[t][:, None, None, None]
        xt = a.sqrt() * x0 + (1 - a).sqrt() * noise
        xt, t, ids, noise = xt.to(dev), t.to(dev), ids.to(dev), noise.to(dev)
        if args.channels_last:
            xt = xt.contiguous(memory_format=torch.channels_last)
        lr = learning_rate(step, args, warm_from)
        for g in opt.param_groups:
            g['lr'] = lr
        with autocast:
            pred = model(xt, t, ids)
        per_sample = ((pred.float() - noise) ** 2).mean((1, 2, 3))
        if args.min_snr > 0:
            # Min-SNR-gamma weighting (Hang et al. 2023): min(SNR, gamma) / SNR on the epsilon loss.
            snr = (abar[t.cpu()] / (1 - abar[t.cpu()])).to(dev)
            per_sample = per_sample * torch.clamp(snr, max=args.min_snr) / snr
        loss = per_sample.mean()
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
