#!/usr/bin/env python3
"""The classifier's hand-written input gradient equals torch.autograd's (random and trained
weights), and the ONNX export (if present) equals torch.

    /usr/bin/python3 tools/train/test_classifier_grad.py          # or
    cd tools/train && /usr/bin/python3 -m unittest test_classifier_grad
Env: CLASSIFIER_CKPT (default .cache/classifier.pt), CLASSIFIER_ONNX
(default resources/models/noto-emoji-32/classifier/model.onnx)."""
import os, sys, unittest
import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from model import NoisyClassifier, ClassifierWithGrad

CKPT = os.environ.get('CLASSIFIER_CKPT', os.path.join(HERE, '.cache', 'classifier.pt'))
ONNX = os.environ.get('CLASSIFIER_ONNX', os.path.join(HERE, '..', '..', 'resources', 'models', 'noto-emoji-32', 'classifier', 'model.onnx'))


def autograd_grad(clf, x, t, y):
    x = x.clone().requires_grad_(True)
    logits = clf(x, t)
    lp = F.log_softmax(logits, 1).gather(1, y[:, None]).sum()
    (g,) = torch.autograd.grad(lp, x)
    return logits.detach(), g


def random_inputs(seed, B=6, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(B, 3, 32, 32, generator=g, dtype=torch.float64) * scale
    t = torch.randint(0, 1000, (B,), generator=g).double()
    t[0] = 0.0
    t[-1] = 999.0
    return x, t, g


def load_trained():
    ck = torch.load(CKPT)
    clf = NoisyClassifier(len(ck['labels']), tuple(ck['config']['widths']), ck['config']['temb_dim'])
    clf.load_state_dict(ck['model'])
    return clf.eval()


class TestManualGradient(unittest.TestCase):
    def check(self, clf, seed):
        clf = clf.double()
        for k, scale in enumerate((1.0, 0.3, 2.0)):
            x, t, g = random_inputs(seed + k, scale=scale)
            y = torch.randint(0, clf.head.out_features, (x.shape[0],), generator=g)
            with torch.no_grad():
                logits, grad = clf.logits_and_grad(x, t, y)
            ref_logits, ref = autograd_grad(clf, x, t, y)
            self.assertEqual(grad.shape, x.shape)
            torch.testing.assert_close(logits, ref_logits, rtol=1e-9, atol=1e-12)
            rel = ((grad - ref).norm() / ref.norm()).item()
            self.assertLess(rel, 1e-5, f'relative error {rel}')
            # elementwise too
            torch.testing.assert_close(grad, ref, rtol=1e-5, atol=1e-5 * ref.abs().max().item())
            # same in float32, to the float32 tolerance
            with torch.no_grad():
                _, g32 = clf.float().logits_and_grad(x.float(), t.float(), y)
            clf.double()
            rel32 = ((g32.double() - ref).norm() / ref.norm()).item()
            self.assertLess(rel32, 1e-5, f'float32 relative error {rel32}')

    def test_random_weights(self):
        for seed in (0, 1, 2):
            torch.manual_seed(seed)
            clf = NoisyClassifier(8)
            # make it less trivial than the default init: larger weights and biases
            with torch.no_grad():
                for p in clf.parameters():
                    p.add_(torch.randn_like(p) * 0.05)
            self.check(clf, 100 + seed)

    def test_odd_sizes_and_classes(self):
        torch.manual_seed(3)
        clf = NoisyClassifier(5, widths=(8, 12, 16, 16, 20))
        self.check(clf, 7)

    @unittest.skipUnless(os.path.exists(CKPT), 'no trained checkpoint')
    def test_trained_weights(self):
        self.check(load_trained(), 200)

    @unittest.skipUnless(os.path.exists(CKPT) and os.path.exists(ONNX), 'no ONNX export')
    def test_onnx_matches_torch_via_node(self):
        """Runs the export with onnxruntime-node (the studio's runtime) and compares."""
        import json, subprocess, tempfile
        clf = load_trained()
        x, t, g = random_inputs(300, B=5)
        y = torch.randint(0, clf.head.out_features, (5,), generator=g)
        x, t = x.float(), t.float()
        with torch.no_grad():
            logits, grad = ClassifierWithGrad(clf)(x, t, y)
        repo = os.path.abspath(os.path.join(HERE, '..', '..'))
        with tempfile.TemporaryDirectory() as d:
            np.save(os.path.join(d, 'x.npy'), x.numpy())
            json.dump({'x': x.flatten().tolist(), 't': t.tolist(), 'y': y.tolist(), 'model': os.path.abspath(ONNX)},
                      open(os.path.join(d, 'in.json'), 'w'))
            script = os.path.join(repo, 'tools', 'train', 'ort_classifier_check.mjs')
            out = subprocess.run(['node', script, os.path.join(d, 'in.json')], cwd=repo, capture_output=True, text=True, check=True)
            res = json.loads(out.stdout)
        ol = torch.tensor(res['logits']).reshape(logits.shape)
        og = torch.tensor(res['grad']).reshape(grad.shape)
        self.assertLess(((ol - logits).abs().max() / logits.abs().max()).item(), 1e-4)
        self.assertLess(((og - grad).norm() / grad.norm()).item(), 1e-4)
        torch.testing.assert_close(og, grad, rtol=1e-4, atol=1e-4 * grad.abs().max().item())


if __name__ == '__main__':
    unittest.main()
