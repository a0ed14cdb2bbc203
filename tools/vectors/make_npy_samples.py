#!/usr/bin/python3
"""Writes small numpy-made .npy files into src/main/core/io/samples/ for src/main/core/io/npy.test.ts.

The float32 files are the byte-for-byte reference for encodeNpy (numpy's header padding rules);
the others exercise readNpy's float64 conversion, format 2.0 and each rejection. Values are
(i + 1) / 3 for element i in C order, so the test can recompute them.

Run with: /usr/bin/python3 tools/vectors/make_npy_samples.py
"""
from pathlib import Path

import numpy as np

OUT_DIR = Path(__file__).resolve().parents[2] / 'src' / 'main' / 'core' / 'io' / 'samples'

# This shape makes numpy's unpadded header end exactly on a 64-byte boundary, the one case where
# numpy pads with a full 64 spaces instead of none.
FULL_PADDING_SHAPE = (2,) + (1,) * 11 + (10, 10)


def thirds(shape, dtype):
    count = int(np.prod(shape, dtype=np.int64))
    return ((np.arange(count, dtype=np.float64) + 1) / 3).astype(dtype).reshape(shape)


def main():
    OUT_DIR.mkdir(parents=True, exist_ok=True)

    for name, shape in [('f4_2x3', (2, 3)), ('f4_5', (5,)), ('f4_0', (0,)), ('f4_scalar', ()),
                        ('f4_1x4x3x2', (1, 4, 3, 2)), ('f4_full_padding', FULL_PADDING_SHAPE)]:
        np.save(OUT_DIR / f'{name}.npy', thirds(shape, '<f4'))

    np.save(OUT_DIR / 'f8_2x3.npy', thirds((2, 3), '<f8'))
    with open(OUT_DIR / 'f4_2x3_v2.npy', 'wb') as out:
        np.lib.format.write_array(out, thirds((2, 3), '<f4'), version=(2, 0))

    np.save(OUT_DIR / 'reject_fortran_2x3.npy', np.asfortranarray(thirds((2, 3), '<f4')))
    np.save(OUT_DIR / 'reject_big_endian_3.npy', thirds((3,), '>f4'))
    np.save(OUT_DIR / 'reject_i8_3.npy', np.arange(3, dtype='<i8'))

    full = (OUT_DIR / 'f4_full_padding.npy').read_bytes()
    growth_spaces = 21 - len(repr(FULL_PADDING_SHAPE[0]))
    padding = b' ' * (growth_spaces + 64) + b'\n'
    header_end = 10 + int.from_bytes(full[8:10], 'little')
    assert full[header_end - len(padding) - 3:header_end] == b', }' + padding, 'padding case moved'
    print(f'wrote the .npy samples with numpy {np.__version__} to {OUT_DIR}')


if __name__ == '__main__':
    main()
