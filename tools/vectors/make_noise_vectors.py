#!/usr/bin/python3
"""Writes reference vectors for src/main/core/engine/noise/torchRandn.ts.

Each case is torch.randn(shape, generator=torch.Generator().manual_seed(seed)) (float32, CPU),
saved with np.save as little-endian float32, and listed in manifest.json together with the torch
version and CPU capability that produced it (torch's float path differs between the AVX2 kernel
and the scalar "default" one, so vectors are only comparable for the same capability).

Run with Debian's torch: /usr/bin/python3 tools/vectors/make_noise_vectors.py
"""
import json
import re
import sys
from pathlib import Path

import numpy as np
import torch

OUT_DIR = Path(__file__).resolve().parents[2] / 'src' / 'main' / 'core' / 'engine' / 'noise' / 'vectors'

ALL_SEEDS = [0, 1, 42, 1234, 2**31 - 1, 2**32 + 5, 2**63 - 1]
# Small shapes cover every branch: scalar/double path (< 16), one exact block, partial tails.
SMALL_SHAPES = [[], [0], [1], [7], [15], [16], [17], [31], [33], [100],
                [1, 3, 8, 8], [3, 5, 7], [1, 3, 32, 32]]
# Latent-sized shapes only for a few seeds to keep the committed vectors well under 2 MB.
LARGE_CASES = {
    (1, 4, 64, 64): [0, 42, 2**63 - 1],
    (2, 4, 64, 64): [1, 2**32 + 5],
}


def cpu_capability():
    backends_cpu = getattr(torch.backends, 'cpu', None)
    if backends_cpu is not None and hasattr(backends_cpu, 'get_cpu_capability'):
        return backends_cpu.get_cpu_capability()
    match = re.search(r'CPU capability usage: (\S+)', torch.__config__.show())
    return match.group(1) if match else 'unknown'


def file_name(seed, shape):
    dims = 'x'.join(str(d) for d in shape) if shape else 'scalar'
    return f'seed-{seed}_shape-{dims}.npy'


def main():
    capability = cpu_capability()
    if capability.upper() not in ('AVX2', 'AVX512'):
        sys.exit(f'CPU capability is {capability}; torchRandn reproduces the AVX2 kernel '
                 '(unset ATEN_CPU_CAPABILITY or run on an AVX2 machine)')
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for stale in OUT_DIR.glob('*.npy'):
        stale.unlink()

    cases = [(seed, shape) for seed in ALL_SEEDS for shape in SMALL_SHAPES]
    cases += [(seed, list(shape)) for shape, seeds in LARGE_CASES.items() for seed in seeds]

    entries = []
    for seed, shape in cases:
        generator = torch.Generator().manual_seed(seed)
        values = torch.randn(shape, generator=generator, dtype=torch.float32)
        name = file_name(seed, shape)
        np.save(OUT_DIR / name, values.numpy().astype('<f4'))
        entries.append({'seed': str(seed), 'shape': shape, 'file': name})

    header = {
        'torch': torch.__version__,
        'numpy': np.__version__,
        'cpuCapability': capability,
        'generatedBy': 'tools/vectors/make_noise_vectors.py',
    }
    # One case per line keeps the manifest short and its diffs readable.
    header_lines = json.dumps(header, indent=2)[:-2]
    case_lines = ',\n    '.join(json.dumps(entry) for entry in entries)
    manifest = f'{header_lines},\n  "cases": [\n    {case_lines}\n  ]\n}}\n'
    json.loads(manifest)
    (OUT_DIR / 'manifest.json').write_text(manifest)
    total = sum(p.stat().st_size for p in OUT_DIR.iterdir())
    print(f'wrote {len(entries)} vectors ({total} bytes) with torch {torch.__version__} '
          f'({capability}) to {OUT_DIR}')


if __name__ == '__main__':
    main()
