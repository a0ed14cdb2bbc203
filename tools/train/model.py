"""Models: text encoder, conditional UNet (epsilon prediction), noisy group classifier
with a hand-written input gradient (so the ONNX graph contains it; ORT has no autodiff)."""
import math
import torch
import torch.nn as nn
import torch.nn.functional as F

SEQ_LEN = 16


# ----------------------------------------------------------------------------- text encoder
class MHA(nn.Module):
    """Multi-head attention written with matmul/softmax (exports cleanly to ONNX opset 17)."""

    def __init__(self, dim, ctx_dim=None, heads=4):
        super().__init__()
        ctx_dim = ctx_dim or dim
        self.h = heads
        self.q = nn.Linear(dim, dim, bias=False)
        self.k = nn.Linear(ctx_dim, dim, bias=False)
        self.v = nn.Linear(ctx_dim, dim, bias=False)
        self.o = nn.Linear(dim, dim)

    def forward(self, x, ctx=None):
        ctx = x if ctx is None else ctx
        B, N, C = x.shape
        M = ctx.shape[1]
        d = C // self.h
        q = self.q(x).reshape(B, N, self.h, d).transpose(1, 2)
        k = self.k(ctx).reshape(B, M, self.h, d).transpose(1, 2)
        v = self.v(ctx).reshape(B, M, self.h, d).transpose(1, 2)
        a = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) * (d ** -0.5), dim=-1)
        y = torch.matmul(a, v).transpose(1, 2).reshape(B, N, C)
        return self.o(y)


class TextEncoder(nn.Module):
    """Pre-LN transformer, learned positions, no attention mask (padding tokens are ordinary)."""

    def __init__(self, vocab_size, dim=128, layers=3, heads=4, seq_len=SEQ_LEN):
        super().__init__()
        self.tok = nn.Embedding(vocab_size, dim)
        self.pos = nn.Parameter(torch.zeros(1, seq_len, dim))
        nn.init.normal_(self.tok.weight, std=0.02)
        nn.init.normal_(self.pos, std=0.02)
        self.blocks = nn.ModuleList()
        for _ in range(layers):
            self.blocks.append(nn.ModuleDict(dict(ln1=nn.LayerNorm(dim), attn=MHA(dim, heads=heads), ln2=nn.LayerNorm(dim),
                                                  ff=nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim)))))
        self.ln_f = nn.LayerNorm(dim)
        self.dim = dim

    def forward(self, input_ids):
        x = self.tok(input_ids) + self.pos
        for b in self.blocks:
            x = x + b['attn'](b['ln1'](x))
            x = x + b['ff'](b['ln2'](x))
        return self.ln_f(x)


# ----------------------------------------------------------------------------- UNet
def timestep_embedding(t, dim, max_period=10000.0):
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


def gn(c):
    return nn.GroupNorm(min(32, c // 4) if c % 32 else 32 if c >= 64 else 8, c)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, emb_dim):
        super().__init__()
        self.n1 = gn(cin)
        self.c1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.emb = nn.Linear(emb_dim, cout)
        self.n2 = gn(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, padding=1)
        nn.init.zeros_(self.c2.weight)
        nn.init.zeros_(self.c2.bias)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, emb):
        h = self.c1(F.silu(self.n1(x)))
        h = h + self.emb(emb)[:, :, None, None]
        h = self.c2(F.silu(self.n2(h)))
        return self.skip(x) + h


class AttnBlock(nn.Module):
    """GroupNorm -> tokens -> [self-attention] -> cross-attention to text -> feed-forward."""

    def __init__(self, c, ctx_dim, heads=4, self_attn=True):
        super().__init__()
        self.norm = gn(c)
        self.self_attn = self_attn
        if self_attn:
            self.ln0 = nn.LayerNorm(c)
            self.sa = MHA(c, heads=heads)
        self.ln1 = nn.LayerNorm(c)
        self.ca = MHA(c, ctx_dim, heads=heads)
        self.ln2 = nn.LayerNorm(c)
        self.ff = nn.Sequential(nn.Linear(c, 2 * c), nn.GELU(), nn.Linear(2 * c, c))
        self.proj = nn.Conv2d(c, c, 1)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, x, ctx):
        B, C, H, W = x.shape
        h = self.norm(x).reshape(B, C, H * W).transpose(1, 2)
        if self.self_attn:
            h = h + self.sa(self.ln0(h))
        h = h + self.ca(self.ln1(h), ctx)
        h = h + self.ff(self.ln2(h))
        h = h.transpose(1, 2).reshape(B, C, H, W)
        return x + self.proj(h)


class UNet(nn.Module):
    def __init__(self, ctx_dim=128, ch=(32, 96, 192), emb_dim=256, heads=4):
        super().__init__()
        c0, c1, c2 = ch
        self.tdim = c0 * 2
        self.time_mlp = nn.Sequential(nn.Linear(self.tdim, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        self.text_pool = nn.Sequential(nn.Linear(ctx_dim, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        self.conv_in = nn.Conv2d(3, c0, 3, padding=1)
        # down
        self.d0 = ResBlock(c0, c0, emb_dim)                       # 32x32
        self.down0 = nn.Conv2d(c0, c0, 3, stride=2, padding=1)    # -> 16
        self.d1 = ResBlock(c0, c1, emb_dim)
        self.a1 = AttnBlock(c1, ctx_dim, heads, self_attn=False)
        self.down1 = nn.Conv2d(c1, c1, 3, stride=2, padding=1)    # -> 8
        self.d2 = ResBlock(c1, c2, emb_dim)
        self.a2 = AttnBlock(c2, ctx_dim, heads)
        # mid
        self.m1 = ResBlock(c2, c2, emb_dim)
        self.ma = AttnBlock(c2, ctx_dim, heads)
        self.m2 = ResBlock(c2, c2, emb_dim)
        # up
        self.u2 = ResBlock(c2 + c2, c2, emb_dim)                  # 8x8
        self.ua2 = AttnBlock(c2, ctx_dim, heads)
        self.up2 = nn.Conv2d(c2, c1, 3, padding=1)                # after nearest upsample -> 16
        self.u1 = ResBlock(c1 + c1, c1, emb_dim)
        self.ua1 = AttnBlock(c1, ctx_dim, heads, self_attn=False)
        self.up1 = nn.Conv2d(c1, c0, 3, padding=1)                # -> 32
        self.u0 = ResBlock(c0 + c0, c0, emb_dim)
        self.norm_out = gn(c0)
        self.conv_out = nn.Conv2d(c0, 3, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)

    def forward(self, sample, timestep, encoder_hidden_states):
        ctx = encoder_hidden_states
        emb = self.time_mlp(timestep_embedding(timestep, self.tdim)) + self.text_pool(ctx.mean(1))
        x = self.conv_in(sample)
        h0 = self.d0(x, emb)
        x = self.down0(h0)
        h1 = self.a1(self.d1(x, emb), ctx)
        x = self.down1(h1)
        h2 = self.a2(self.d2(x, emb), ctx)
        x = self.m2(self.ma(self.m1(h2, emb), ctx), emb)
        x = self.ua2(self.u2(torch.cat([x, h2], 1), emb), ctx)
        x = self.up2(F.interpolate(x, scale_factor=2.0, mode='nearest'))
        x = self.ua1(self.u1(torch.cat([x, h1], 1), emb), ctx)
        x = self.up1(F.interpolate(x, scale_factor=2.0, mode='nearest'))
        x = self.u0(torch.cat([x, h0], 1), emb)
        return self.conv_out(F.silu(self.norm_out(x)))


class DiffusionModel(nn.Module):
    def __init__(self, vocab_size, text_dim=128, text_layers=3, ch=(32, 96, 192)):
        super().__init__()
        self.text = TextEncoder(vocab_size, text_dim, text_layers)
        self.unet = UNet(text_dim, ch)

    def forward(self, x_t, t, ids):
        return self.unet(x_t, t, self.text(ids))


def linear_alphas_cumprod(T=1000, b0=1e-4, b1=0.02):
    betas = torch.linspace(b0, b1, T, dtype=torch.float64)
    return torch.cumprod(1 - betas, 0).float()


# ----------------------------------------------------------------------------- classifier
def silu_grad(h):
    s = torch.sigmoid(h)
    return s * (1 + h * (1 - s))


class NoisyClassifier(nn.Module):
    """p(group | x_t, t). Plain convs + SiLU, timestep as a per-channel additive bias after
    each conv, no normalisation, global mean pool, linear head. forward() returns logits;
    logits_and_grad() also returns d log_softmax(logits)[label] / d sample by hand."""

    # (cin, cout, stride); padding 1, kernel 3
    def __init__(self, num_classes, widths=(48, 64, 96, 128, 160), temb_dim=64):
        super().__init__()
        cfg = [(3, widths[0], 1), (widths[0], widths[1], 2), (widths[1], widths[2], 1), (widths[2], widths[3], 2),
               (widths[3], widths[4], 1), (widths[4], widths[4], 2)]
        self.cfg = cfg
        self.convs = nn.ModuleList([nn.Conv2d(a, b, 3, stride=s, padding=1) for a, b, s in cfg])
        self.temb_dim = temb_dim
        self.t1 = nn.Linear(temb_dim, 128)
        self.t2 = nn.ModuleList([nn.Linear(128, b) for _, b, _ in cfg])
        self.head = nn.Linear(widths[4], num_classes)

    def _tbias(self, timestep):
        e = F.silu(self.t1(timestep_embedding(timestep, self.temb_dim).to(self.t1.weight.dtype)))
        return [l(e) for l in self.t2]

    def _forward(self, x, timestep):
        biases = self._tbias(timestep)
        pre, acts, h = [], [], x
        for conv, b in zip(self.convs, biases):
            z = conv(h) + b[:, :, None, None]
            pre.append(z)
            h = F.silu(z)
            acts.append(h)
        pooled = h.mean((2, 3))
        return self.head(pooled), pre, acts

    def forward(self, sample, timestep):
        return self._forward(sample, timestep)[0]

    def logits_and_grad(self, sample, timestep, class_labels):
        logits, pre, acts = self._forward(sample, timestep)
        K = logits.shape[1]
        p = torch.softmax(logits, dim=1)
        onehot = F.one_hot(class_labels, K).to(logits.dtype)
        g_logits = onehot - p                                   # d log p[label] / d logits
        g = torch.matmul(g_logits, self.head.weight)            # d / d pooled  [B, C]
        H, W = acts[-1].shape[2], acts[-1].shape[3]
        g = g[:, :, None, None].expand(-1, -1, H, W) / float(H * W)   # mean-pool backward
        for i in range(len(self.convs) - 1, -1, -1):
            g = g * silu_grad(pre[i])                             # SiLU backward
            conv = self.convs[i]
            inp_hw = sample.shape[2:] if i == 0 else acts[i - 1].shape[2:]
            s = conv.stride[0]
            out_hw = pre[i].shape[2:]
            # output_padding so conv_transpose2d restores the input size exactly
            op = int(inp_hw[0]) - ((int(out_hw[0]) - 1) * s - 2 * conv.padding[0] + conv.kernel_size[0])
            g = F.conv_transpose2d(g, conv.weight, None, stride=s, padding=conv.padding[0], output_padding=op)
        return logits, g


class ClassifierWithGrad(nn.Module):
    """Export wrapper: (sample, timestep float, class_labels) -> (logits, grad)."""

    def __init__(self, clf):
        super().__init__()
        self.clf = clf

    def forward(self, sample, timestep, class_labels):
        return self.clf.logits_and_grad(sample, timestep, class_labels)
