"""Shared data helpers: compositing onto backgrounds and caption -> ids batches."""
import random
import numpy as np
import torch
from captions import BG_RGB, caption
from tokenizer import encode, MAX_LEN

HERE = __import__('os').path.dirname(__import__('os').path.abspath(__file__))


class EmojiData:
    def __init__(self, path, vocab, only=None):
        d = np.load(path)
        self.images = torch.from_numpy(d['images'].astype(np.float32))  # premultiplied RGBA [N,4,32,32]
        self.group = torch.from_numpy(d['group'])
        self.held_out = d['held_out']
        self.names = list(d['names'])
        self.shorts = list(d['shorts'])
        self.vocab = vocab
        self.bg = torch.from_numpy(BG_RGB)
        self.index = np.arange(len(self.names)) if only is None else np.nonzero(only(self))[0]

    def composite(self, idx, bg):
        im = self.images[idx]
        rgb = im[:, :3] + (1 - im[:, 3:4]) * self.bg[bg][:, :, None, None]
        return rgb * 2 - 1

    def batch(self, B, rng: random.Random, gen: torch.Generator, unk_p=0.05, drop_p=0.12, with_text=True):
        idx = torch.from_numpy(self.index[torch.randint(0, len(self.index), (B,), generator=gen).numpy()])
        bg = torch.randint(0, len(BG_RGB), (B,), generator=gen)
        x = self.composite(idx, bg)
        if not with_text:
            return x, self.group[idx]
        ids = []
        for i, b in zip(idx.tolist(), bg.tolist()):
            if rng.random() < drop_p:
                ids.append([0] * MAX_LEN)
                continue
            c = caption(self.names[i], self.shorts[i], int(self.group[i]), b, rng)
            t = encode(c, self.vocab)
            t = [1 if (tok > 1 and rng.random() < unk_p) else tok for tok in t]
            ids.append(t)
        return x, torch.tensor(ids, dtype=torch.int64), self.group[idx]
