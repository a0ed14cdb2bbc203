"""Write the reference PNG files that src/main/core/io/png.test.ts decodes, and their expected pixels.

How to run (from the repository root; needs Debian's python3-pil, nothing else):

    /usr/bin/python3 tools/vectors/make_png_samples.py

It (re)writes src/main/core/io/samples/png/*.png and src/main/core/io/samples/png/expected.json. The
vitest tests only read those committed files; they never run Python.

Two independent encoders make the files, neither of them the TypeScript encoder under test:

* Pillow, for every colour type / bit depth it can write (greyscale 1, 8, 16 bits; grey+alpha 8;
  RGB 8 with and without tRNS; RGBA 8; palette 1, 2, 4, 8 bits with tRNS; tEXt/zTXt/iTXt).
* `write_png_from_spec` below, a small writer made from the PNG specification with zlib and
  struct, for what Pillow cannot write: greyscale 2 and 4 bits, 16-bit grey+alpha, RGB and RGBA,
  16-bit tRNS keys, and Adam7 interlacing (section 8.2). It cycles the five filter types row by
  row (section 9.2) and splits the zlib stream over several IDAT chunks, so the decoder's
  unfiltering and IDAT concatenation are exercised on every one of these files.

The expected RGBA is computed here from the source samples, by the rules the decoder documents
(1/2/4-bit samples scaled by 255 / (2^depth - 1), 16-bit samples reduced to their high byte,
tRNS keys compared with the unscaled samples), and every file is then read back with Pillow and
compared with it, so a mistake in the writer, in Pillow or in the expectation shows up here.

Checking the TypeScript encoder's output with Pillow:

    /usr/bin/python3 tools/vectors/make_png_samples.py --check out.png [out.rgba]

loads out.png with Pillow (Image.open(...).load()) and, if a raw RGBA file of the same image is
given, compares Pillow's RGBA pixels with it.
"""

import base64
import io
import json
import os
import struct
import sys
import zlib

from PIL import Image, PngImagePlugin

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT_DIR = os.path.join(ROOT, "src", "main", "core", "io", "samples", "png")

CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


class Lcg:
    """Deterministic pseudo-random numbers that do not depend on Python's random module."""

    def __init__(self, seed):
        self.state = seed & 0xFFFFFFFF

    def below(self, n):
        self.state = (self.state * 1664525 + 1013904223) & 0xFFFFFFFF
        return (self.state >> 8) % n


# ---------------------------------------------------------------------------------------
# Source images: pixels[y][x] is a tuple of raw samples at the file's bit depth.


def random_pixels(width, height, channels, limit, seed):
    rng = Lcg(seed)
    return [[tuple(rng.below(limit) for _ in range(channels)) for _ in range(width)] for _ in range(height)]


def set_pixels(pixels, value, coords):
    for x, y in coords:
        pixels[y][x] = value


def palette_of(count, seed):
    rng = Lcg(seed)
    return [(rng.below(256), rng.below(256), rng.below(256)) for _ in range(count)]


# ---------------------------------------------------------------------------------------
# Expected RGBA, by the decoder's documented rules.


def to8(v, depth):
    return v >> 8 if depth == 16 else v * 255 // ((1 << depth) - 1)


def expected_rgba(s):
    out = bytearray()
    depth, ct, key = s["depth"], s["ct"], s.get("trns")
    for row in s["pixels"]:
        for px in row:
            if ct == 0:
                g = to8(px[0], depth)
                out += bytes((g, g, g, 0 if key is not None and px[0] == key else 255))
            elif ct == 2:
                out += bytes([to8(v, depth) for v in px] + [0 if key is not None and tuple(px) == tuple(key) else 255])
            elif ct == 3:
                r, g, b = s["palette"][px[0]]
                alphas = s.get("alphas", b"")
                out += bytes((r, g, b, alphas[px[0]] if px[0] < len(alphas) else 255))
            elif ct == 4:
                g = to8(px[0], depth)
                out += bytes((g, g, g, to8(px[1], depth)))
            else:
                out += bytes(to8(v, depth) for v in px)
    return bytes(out)


# ---------------------------------------------------------------------------------------
# A PNG writer from the specification (sections 5, 7.2, 8.2, 9, 10, 11).


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def pack_samples(samples, depth):
    """Section 7.2: big-endian 16-bit samples; sub-byte samples packed from the high-order bits."""
    if depth == 8:
        return bytes(samples)
    if depth == 16:
        return b"".join(struct.pack(">H", v) for v in samples)
    out, acc, bits = bytearray(), 0, 0
    for v in samples:
        acc = (acc << depth) | v
        bits += depth
        if bits == 8:
            out.append(acc)
            acc, bits = 0, 0
    if bits:
        out.append(acc << (8 - bits))
    return bytes(out)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def filter_line(ftype, line, prev, bpp):
    """Section 9.2: x minus the predictor from a (left), b (above), c (upper left), modulo 256."""
    prev = prev or bytes(len(line))
    out = bytearray()
    for i, x in enumerate(line):
        a = line[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][ftype]
        out.append((x - pred) & 0xFF)
    return bytes(out)


def image_data(s):
    """Filtered scanlines of every non-empty pass (section 8.2), filter type = row number mod 5."""
    width, height, depth, ct = s["width"], s["height"], s["depth"], s["ct"]
    bpp = max(1, CHANNELS[ct] * depth // 8)
    raw, row_number = bytearray(), 0
    for x0, y0, dx, dy in ADAM7 if s.get("interlace") else [(0, 0, 1, 1)]:
        xs, ys = range(x0, width, dx), range(y0, height, dy)
        if len(xs) == 0 or len(ys) == 0:
            continue
        prev = None
        for y in ys:
            line = pack_samples([v for x in xs for v in s["pixels"][y][x]], depth)
            ftype = row_number % 5
            row_number += 1
            raw.append(ftype)
            raw += filter_line(ftype, line, prev, bpp)
            prev = line
    return bytes(raw)


def write_png_from_spec(s):
    ihdr = struct.pack(">IIBBBBB", s["width"], s["height"], s["depth"], s["ct"], 0, 0, 1 if s.get("interlace") else 0)
    parts = [b"\x89PNG\r\n\x1a\n", chunk(b"IHDR", ihdr)]
    if s["ct"] == 3:
        parts.append(chunk(b"PLTE", b"".join(bytes(c) for c in s["palette"])))
        if s.get("alphas"):
            parts.append(chunk(b"tRNS", bytes(s["alphas"])))
    elif s.get("trns") is not None:
        key = s["trns"] if isinstance(s["trns"], tuple) else (s["trns"],)
        parts.append(chunk(b"tRNS", b"".join(struct.pack(">H", v) for v in key)))
    stream = zlib.compress(image_data(s), 9)
    for i in range(0, len(stream), 64):  # several IDAT chunks: the decoder must concatenate them
        parts.append(chunk(b"IDAT", stream[i : i + 64]))
    parts.append(chunk(b"IEND", b""))
    return b"".join(parts)


# ---------------------------------------------------------------------------------------
# Pillow as the other encoder.


def write_png_with_pillow(s):
    w, h, ct, depth = s["width"], s["height"], s["ct"], s["depth"]
    flat = [v for row in s["pixels"] for px in row for v in px]
    params = {}
    if ct == 0 and depth == 1:
        im = Image.new("1", (w, h))
        im.putdata([255 * v for v in flat])
    elif ct == 0 and depth == 16:
        im = Image.frombytes("I;16", (w, h), b"".join(struct.pack("<H", v) for v in flat))
    elif ct == 3:
        im = Image.frombytes("P", (w, h), bytes(flat))
        im.putpalette([v for c in s["palette"] for v in c])
        if s.get("alphas"):
            params["transparency"] = bytes(s["alphas"])
    else:
        im = Image.frombytes({0: "L", 2: "RGB", 4: "LA", 6: "RGBA"}[ct], (w, h), bytes(flat))
    if s.get("trns") is not None and ct != 3:
        params["transparency"] = s["trns"]
    if s.get("pnginfo"):
        params["pnginfo"] = s["pnginfo"]
    buf = io.BytesIO()
    im.save(buf, "PNG", **params)
    return buf.getvalue()


def text_info():
    info = PngImagePlugin.PngInfo()
    info.add_text("Title", "Café crème")  # tEXt, Latin-1
    info.add_text("Comment", "zipped text " * 20, zip=True)  # zTXt
    info.add_itxt("Prompt", "a cat \u2014 \u732b \u2615", lang="en", tkey="Prompt", zip=True)  # compressed iTXt
    info.add_itxt("Note", "d\u00e9j\u00e0 vu \u2713", zip=False)  # uncompressed iTXt
    texts = {"Title": "Café crème", "Comment": "zipped text " * 20, "Prompt": "a cat \u2014 \u732b \u2615", "Note": "d\u00e9j\u00e0 vu \u2713"}
    return info, texts


# ---------------------------------------------------------------------------------------
# Checks of the written files.


def header_of(data):
    """(width, height, depth, colour type, interlace) and chunk types, by walking the chunks."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, kinds = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kinds.append(data[pos + 4 : pos + 8].decode("ascii"))
        pos += 12 + length
    w, h, depth, ct, _, _, interlace = struct.unpack(">IIBBBBB", data[16:29])
    return (w, h, depth, ct, interlace), kinds


def pillow_rgba(data, check):
    """Pillow's view of the file as RGBA; for 16-bit greyscale (mode I) the high bytes by hand."""
    im = Image.open(io.BytesIO(data))
    im.load()
    if im.mode in ("I", "I;16", "I;16B"):
        g = bytes(v >> 8 for v in im.getdata())
        return b"".join(bytes((v, v, v, 255)) for v in g)
    return im.convert("RGBA").tobytes()


def compare_with_pillow(name, data, expected, check):
    got = pillow_rgba(data, check)
    if check in ("rgb", "gray16"):  # Pillow ignores (or cannot apply) this file's tRNS; compare colour only
        got = bytes(v for i, v in enumerate(got) if i % 4 != 3)
        expected = bytes(v for i, v in enumerate(expected) if i % 4 != 3)
    if got != expected:
        raise SystemExit(f"{name}: Pillow reads different pixels than expected")


# ---------------------------------------------------------------------------------------
# The sample set.


def samples():
    out = []

    def add(name, writer, ct, depth, width, height, seed, **extra):
        limit = (extra.pop("colours") if ct == 3 else 1 << depth)
        s = dict(name=name, writer=writer, ct=ct, depth=depth, width=width, height=height, **extra)
        s["pixels"] = random_pixels(width, height, CHANNELS[ct], limit, seed)
        if ct == 3:
            s["palette"] = palette_of(limit, seed + 1)
        out.append(s)
        return s

    # Pillow-written files.
    add("gray1.png", "pillow", 0, 1, 13, 9, 1)
    add("gray8.png", "pillow", 0, 8, 13, 9, 2)
    s = add("gray8_trns.png", "pillow", 0, 8, 13, 9, 3, trns=77)
    set_pixels(s["pixels"], (77,), [(0, 0), (5, 3), (12, 8)])
    add("gray16.png", "pillow", 0, 16, 13, 9, 4, check="gray16")
    add("graya8.png", "pillow", 4, 8, 13, 9, 5)
    add("rgb8.png", "pillow", 2, 8, 13, 9, 6)
    s = add("rgb8_trns.png", "pillow", 2, 8, 13, 9, 7, trns=(10, 20, 30))
    set_pixels(s["pixels"], (10, 20, 30), [(1, 1), (7, 4), (12, 0)])
    set_pixels(s["pixels"], (10, 20, 31), [(2, 2)])  # one sample off: stays opaque
    add("rgba8.png", "pillow", 6, 8, 13, 9, 8)
    add("pal1.png", "pillow", 3, 1, 13, 9, 9, colours=2)
    add("pal2_trns.png", "pillow", 3, 2, 13, 9, 10, colours=4, alphas=bytes([0, 128, 255]))
    add("pal4_trns.png", "pillow", 3, 4, 13, 9, 11, colours=11, alphas=bytes([0, 40, 80, 120, 160]))
    add("pal8_trns.png", "pillow", 3, 8, 13, 9, 12, colours=200, alphas=bytes(range(0, 250, 5)))
    info, texts = text_info()
    add("text.png", "pillow", 2, 8, 8, 8, 13, pnginfo=info, text=texts)

    # Files from the spec writer (filters 0-4 cycled, several IDAT chunks).
    add("gray2.png", "spec", 0, 2, 13, 9, 21)
    # Pillow compares a sub-8-bit tRNS key with the scaled sample, so only colour is compared.
    s = add("gray4_trns.png", "spec", 0, 4, 13, 9, 22, trns=9, check="rgb")
    set_pixels(s["pixels"], (9,), [(0, 0), (12, 8)])
    s = add("gray16_trns.png", "spec", 0, 16, 13, 9, 23, trns=0x1234, check="gray16")
    set_pixels(s["pixels"], (0x1234,), [(3, 3), (4, 4)])
    set_pixels(s["pixels"], (0x12FF,), [(5, 5)])  # same high byte, other low byte: stays opaque
    add("graya16.png", "spec", 4, 16, 13, 9, 24)
    add("rgb16.png", "spec", 2, 16, 13, 9, 25)
    s = add("rgb16_trns.png", "spec", 2, 16, 13, 9, 26, trns=(0x0102, 0x0304, 0x0506), check="rgb")
    set_pixels(s["pixels"], (0x0102, 0x0304, 0x0506), [(0, 0), (6, 6)])
    set_pixels(s["pixels"], (0x0102, 0x0304, 0x0507), [(7, 7)])
    add("rgba16.png", "spec", 6, 16, 13, 9, 27)
    add("pal8_short_trns.png", "spec", 3, 8, 13, 9, 28, colours=7, alphas=bytes([255, 0]))

    # Adam7 interlaced (section 8.2); odd sizes leave passes partly or wholly empty.
    add("rgba8_adam7.png", "spec", 6, 8, 13, 11, 31, interlace=1)
    add("gray1_adam7.png", "spec", 0, 1, 13, 11, 32, interlace=1)
    add("pal4_adam7.png", "spec", 3, 4, 11, 13, 33, interlace=1, colours=16, alphas=bytes([0, 100, 200]))
    add("rgb16_adam7.png", "spec", 2, 16, 9, 10, 34, interlace=1)
    add("graya8_adam7.png", "spec", 4, 8, 5, 6, 35, interlace=1)
    add("gray8_adam7_3x2.png", "spec", 0, 8, 3, 2, 36, interlace=1)
    add("rgb8_adam7_1x1.png", "spec", 2, 8, 1, 1, 37, interlace=1)
    return out


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    entries = []
    for s in samples():
        data = write_png_with_pillow(s) if s["writer"] == "pillow" else write_png_from_spec(s)
        header, kinds = header_of(data)
        want = (s["width"], s["height"], s["depth"], s["ct"], 1 if s.get("interlace") else 0)
        if header != want:
            raise SystemExit(f"{s['name']}: written as {header}, wanted {want}")
        if (s.get("trns") is not None or s.get("alphas")) and "tRNS" not in kinds:
            raise SystemExit(f"{s['name']}: no tRNS chunk was written")
        rgba = expected_rgba(s)
        compare_with_pillow(s["name"], data, rgba, s.get("check", "rgba"))
        with open(os.path.join(OUT_DIR, s["name"]), "wb") as f:
            f.write(data)
        entries.append(
            {
                "file": s["name"],
                "encoder": "Pillow " + Image.__version__ if s["writer"] == "pillow" else "spec writer (make_png_samples.py)",
                "width": s["width"],
                "height": s["height"],
                "colorType": s["ct"],
                "bitDepth": s["depth"],
                "interlace": 1 if s.get("interlace") else 0,
                "chunks": kinds,
                "text": s.get("text", {}),
                "rgba": base64.b64encode(rgba).decode("ascii"),
            }
        )
    with open(os.path.join(OUT_DIR, "expected.json"), "w", encoding="utf-8") as f:
        json.dump({"samples": entries}, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {len(entries)} PNG samples and expected.json to {os.path.relpath(OUT_DIR, ROOT)}")


def check(png_path, rgba_path=None):
    """Loads a PNG with Pillow; with a raw RGBA file, compares the pixels too."""
    with open(png_path, "rb") as f:
        data = f.read()
    im = Image.open(io.BytesIO(data))
    im.load()
    print(f"{png_path}: Pillow loaded {im.format} {im.mode} {im.size[0]}x{im.size[1]}, text {dict(im.text)}")
    if rgba_path:
        with open(rgba_path, "rb") as f:
            want = f.read()
        if im.convert("RGBA").tobytes() != want:
            raise SystemExit(f"{png_path}: Pillow's pixels differ from {rgba_path}")
        print(f"{png_path}: pixels equal {rgba_path}")


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "--check":
        check(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
    else:
        main()
