#!/usr/bin/env python3
"""Export the model folder resources/models/noto-emoji-32/ (ONNX opset 17, fp32, EMA UNet and
text-encoder weights) and write reference inputs/outputs for check_onnx.mjs."""
import argparse, json, os, shutil, sys, time
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from model import DiffusionModel, NoisyClassifier, ClassifierWithGrad, SEQ_LEN
from tokenizer import write_tokenizer_files, encode
from captions import GROUPS

REPO = os.path.abspath(os.path.join(HERE, '..', '..'))
OPSET = 17


class TextEncoderOnnx(torch.nn.Module):
    def __init__(self, te):
        super().__init__()
        self.te = te

    def forward(self, input_ids):
        h = self.te(input_ids)
        return h, h.mean(1)


def load_diffusion(path, which='ema'):
    """A full training checkpoint or the compact fp16 one (checkpoint/noto-emoji-32.resume.pt)."""
    ck = torch.load(path, map_location='cpu')
    c = ck['config']
    m = DiffusionModel(ck['vocab_size'], c['text_dim'], c['text_layers'], tuple(c['ch']))
    m.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in ck[which].items()})
    return m.eval(), ck


def load_classifier(path):
    ck = torch.load(path)
    clf = NoisyClassifier(len(ck['labels']), tuple(ck['config']['widths']), ck['config']['temb_dim'])
    clf.load_state_dict(ck['model'])
    return clf.eval(), ck


def save_ref(d, name, arrays):
    meta = {}
    for k, a in arrays.items():
        a = np.ascontiguousarray(a)
        fn = f'{name}.{k}.bin'
        a.tofile(os.path.join(d, fn))
        meta[k] = {'file': fn, 'dtype': str(a.dtype), 'shape': list(a.shape)}
    return meta


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--diffusion', default=os.path.join(HERE, '.cache', 'diffusion.pt'))
    ap.add_argument('--classifier', default=os.path.join(HERE, '.cache', 'classifier.pt'))
    ap.add_argument('--keep-classifier', action='store_true',
                    help='keep the classifier/ folder (and its provenance) of the model folder already in --out instead of exporting one')
    ap.add_argument('--vocab', default=os.path.join(HERE, '.cache', 'vocab.json'))
    ap.add_argument('--provenance', default=os.path.join(HERE, '.cache', 'provenance.json'))
    ap.add_argument('--out', default=os.path.join(REPO, 'resources', 'models', 'noto-emoji-32'))
    ap.add_argument('--ref', default=os.path.join(HERE, '.cache', 'onnx_ref'))
    ap.add_argument('--guidance', type=float, default=4.0)
    ap.add_argument('--notes', default=os.path.join(HERE, '.cache', 'training_notes.json'),
                    help='optional JSON with measured times etc. merged into studio.json provenance')
    args = ap.parse_args()
    torch.manual_seed(0)
    vocab = json.load(open(args.vocab))
    prov = json.load(open(args.provenance))
    model, dck = load_diffusion(args.diffusion)
    kept = None
    if args.keep_classifier:
        kept = dict(folder=os.path.join(args.out, 'classifier'),
                    provenance=json.load(open(os.path.join(args.out, 'studio.json')))['provenance']['classifier'])
        clf = cck = None
    else:
        clf, cck = load_classifier(args.classifier)
    tmp = args.out + '.tmp'
    shutil.rmtree(tmp, ignore_errors=True)
    for sub in ('tokenizer', 'text_encoder', 'unet', 'classifier', 'scheduler'):
        os.makedirs(os.path.join(tmp, sub))
    os.makedirs(args.ref, exist_ok=True)
    write_tokenizer_files(vocab, os.path.join(tmp, 'tokenizer'))
    D = dck['config']['text_dim']
    B = 2
    prompts = ['red apple on a blue background, food and drink', '']
    ids = torch.tensor([encode(p, vocab) for p in prompts], dtype=torch.int64)
    refs = {}
    with torch.no_grad():
        # text encoder
        te = TextEncoderOnnx(model.text).eval()
        torch.onnx.export(te, (ids,), os.path.join(tmp, 'text_encoder', 'model.onnx'), opset_version=OPSET,
                          input_names=['input_ids'], output_names=['last_hidden_state', 'pooler_output'],
                          dynamic_axes={'input_ids': {0: 'batch'}, 'last_hidden_state': {0: 'batch'}, 'pooler_output': {0: 'batch'}})
        h, pooled = te(ids)
        refs['text_encoder'] = {'inputs': save_ref(args.ref, 'te', {'input_ids': ids.numpy()}),
                                'outputs': save_ref(args.ref, 'te_out', {'last_hidden_state': h.numpy(), 'pooler_output': pooled.numpy()})}
        # unet
        x = torch.randn(B, 3, 32, 32)
        t = torch.tensor([999, 10], dtype=torch.int64)
        torch.onnx.export(model.unet, (x, t, h), os.path.join(tmp, 'unet', 'model.onnx'), opset_version=OPSET,
                          input_names=['sample', 'timestep', 'encoder_hidden_states'], output_names=['out_sample'],
                          dynamic_axes={'sample': {0: 'batch'}, 'timestep': {0: 'batch'}, 'encoder_hidden_states': {0: 'batch'},
                                        'out_sample': {0: 'batch'}})
        eps = model.unet(x, t, h)
        refs['unet'] = {'inputs': save_ref(args.ref, 'unet', {'sample': x.numpy(), 'timestep': t.numpy(), 'encoder_hidden_states': h.numpy()}),
                        'outputs': save_ref(args.ref, 'unet_out', {'out_sample': eps.numpy()})}
    if kept is None:
        # classifier with its gradient
        cw = ClassifierWithGrad(clf).eval()
        xc = torch.randn(3, 3, 32, 32)
        tc = torch.tensor([0.0, 400.0, 999.0])
        yc = torch.tensor([3, 0, 7], dtype=torch.int64)
        torch.onnx.export(cw, (xc, tc, yc), os.path.join(tmp, 'classifier', 'model.onnx'), opset_version=OPSET,
                          input_names=['sample', 'timestep', 'class_labels'], output_names=['logits', 'grad'],
                          dynamic_axes={'sample': {0: 'batch'}, 'timestep': {0: 'batch'}, 'class_labels': {0: 'batch'},
                                        'logits': {0: 'batch'}, 'grad': {0: 'batch'}})
        lg, gr = cw(xc, tc, yc)
        refs['classifier'] = {'inputs': save_ref(args.ref, 'clf', {'sample': xc.numpy(), 'timestep': tc.numpy(), 'class_labels': yc.numpy()}),
                              'outputs': save_ref(args.ref, 'clf_out', {'logits': lg.numpy(), 'grad': gr.numpy()})}
    else:
        shutil.rmtree(os.path.join(tmp, 'classifier'))
        shutil.copytree(kept['folder'], os.path.join(tmp, 'classifier'))
    json.dump(refs, open(os.path.join(args.ref, 'refs.json'), 'w'), indent=1)
    import onnx
    for sub in ('text_encoder', 'unet', 'classifier'):
        onnx.checker.check_model(onnx.load(os.path.join(tmp, sub, 'model.onnx')))

    nu = sum(p.numel() for p in model.unet.parameters())
    nt = sum(p.numel() for p in model.text.parameters())
    nc = sum(p.numel() for p in clf.parameters()) if clf is not None else json.load(open(os.path.join(tmp, 'classifier', 'config.json')))['parameters']
    if kept is None:
        json.dump({'num_classes': len(cck['labels']), 'labels': cck['labels'], 'input_size': 32, 'timestep_dtype': 'float32',
                 'grad': 'd log_softmax(logits)[class_labels] / d sample, computed in the graph',
                 'architecture': {'type': 'NoisyClassifier', **cck['config']}, 'parameters': nc,
                 'accuracy_held_out_by_timestep': cck.get('acc_held_out')},
                open(os.path.join(tmp, 'classifier', 'config.json'), 'w'), indent=1)
    json.dump({'sample_size': 32, 'in_channels': 3, 'out_channels': 3, 'cross_attention_dim': D, 'block_out_channels': dck['config']['ch'],
               'prediction_type': 'epsilon', 'parameters': nu, 'weights': 'EMA', 'ema_decay': dck['args']['ema']},
              open(os.path.join(tmp, 'unet', 'config.json'), 'w'), indent=1)
    json.dump({'hidden_size': D, 'num_hidden_layers': dck['config']['text_layers'], 'max_position_embeddings': SEQ_LEN,
               'vocab_size': dck['vocab_size'], 'pooler_output': 'mean of last_hidden_state over the 16 positions',
               'parameters': nt, 'weights': 'EMA'},
              open(os.path.join(tmp, 'text_encoder', 'config.json'), 'w'), indent=1)
    json.dump({'_class_name': 'DDIMScheduler', 'num_train_timesteps': 1000, 'beta_schedule': 'linear', 'beta_start': 0.0001,
               'beta_end': 0.02, 'prediction_type': 'epsilon', 'clip_sample': True, 'clip_sample_range': 1.0,
               'set_alpha_to_one': True, 'timestep_spacing': 'linspace', 'steps_offset': 0},
              open(os.path.join(tmp, 'scheduler', 'scheduler_config.json'), 'w'), indent=1)
    json.dump({'_class_name': 'SplitStudioTextToImagePipeline', 'unet': ['onnx', 'model'], 'text_encoder': ['onnx', 'model'],
               'tokenizer': ['split-studio', 'WordLevel'], 'classifier': ['onnx', 'model'], 'scheduler': ['split-studio', 'ddim']},
              open(os.path.join(tmp, 'model_index.json'), 'w'), indent=1)
    notes = json.load(open(args.notes)) if os.path.exists(args.notes) else {}
    groups = [g.lower().replace('&', 'and') for g in GROUPS]
    studio = {
        'name': 'Noto Emoji 32',
        'description': 'A small text-conditioned diffusion model of 32x32 Noto colour emoji on solid backgrounds, with a noisy classifier over the 8 emoji groups for classifier guidance.',
        'defaults': {'solver': 'split-pc3', 'spacing': 'karras', 'steps': 20, 'guidance': args.guidance, 'width': 32, 'height': 32},
        'license': 'model weights: Apache-2.0 (trained from scratch here on the data below); training data: Noto Color Emoji (Apache-2.0, Google; '
                   '64x64 PNGs from the npm package emoji-datasource-google@16.0.0), emoji names and groups from emoji-data (MIT, Cal Henderson)',
        'provenance': {
            'script': 'tools/train/ (make_dataset.py, train_diffusion.py, train_classifier.py, export_onnx.py); see tools/train/README.md',
            'data': prov,
            'diffusion': f"text encoder ({nt} params) + UNet ({nu} params) trained jointly from scratch on CPU (2 cores), epsilon prediction, "
                         f"linear betas 1e-4..0.02, T=1000, AdamW lr {dck['args']['lr']}, batch {dck['args']['batch']}, "
                         f"{dck['step']} steps in {dck['elapsed'] / 60:.1f} min, prompt dropout 0.12, 5% word dropout to <unk>, EMA {dck['args']['ema']} weights exported",
            'classifier': kept['provenance'] if kept else (f"noisy group classifier ({nc} params), {cck['step']} steps in {cck['elapsed'] / 60:.1f} min, batch {cck['args']['batch']}, "
                                                           f"trained on 90% of the emoji; held-out accuracy by timestep: {cck.get('acc_held_out')}"),
            # The 10% held-out emoji were left out of diffusion training (train_diffusion.py's default since 2026-11-30).
            'held_out_excluded': not dck['args'].get('include_held_out', True),
            **notes,
        },
        'groups': groups,
        'prompt_examples': ['red apple on a blue background', 'cat face, animals and nature', 'grinning face on a yellow background',
                            'rocket on a black background', 'pizza', 'red heart on a white background'],
    }
    json.dump(studio, open(os.path.join(tmp, 'studio.json'), 'w'), indent=1)
    # swap in atomically-ish
    if os.path.exists(args.out):
        shutil.rmtree(args.out + '.old', ignore_errors=True)
        os.replace(args.out, args.out + '.old')
    os.replace(tmp, args.out)
    shutil.rmtree(args.out + '.old', ignore_errors=True)
    total = 0
    for root, _, files in os.walk(args.out):
        for f in files:
            s = os.path.getsize(os.path.join(root, f)); total += s
            print(f'{os.path.relpath(os.path.join(root, f), args.out):40s} {s / 1e6:8.3f} MB')
    print(f'total {total / 1e6:.2f} MB; params unet {nu} text {nt} classifier {nc}')
    assert total <= 30e6


if __name__ == '__main__':
    main()
