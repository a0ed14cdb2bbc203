"""Caption templates and background colours (shared by training and the vocabulary)."""
import random
import numpy as np

GROUPS = ['Smileys & Emotion', 'People & Body', 'Animals & Nature', 'Food & Drink',
          'Travel & Places', 'Activities', 'Objects', 'Symbols']

BACKGROUNDS = {  # name -> sRGB 0..255
    'white': (255, 255, 255), 'black': (0, 0, 0), 'red': (214, 39, 40), 'green': (44, 160, 44),
    'blue': (31, 94, 214), 'yellow': (250, 215, 30), 'purple': (128, 60, 170), 'orange': (255, 127, 14),
}
BG_NAMES = list(BACKGROUNDS)
BG_RGB = np.array([BACKGROUNDS[k] for k in BG_NAMES], np.float32) / 255.0


def group_phrase(g):
    return GROUPS[g].lower().replace('&', 'and')


def clean_name(n):
    return n.lower()


def caption(name, short, group, bg, rng: random.Random):
    """One random caption. name, short: strings; group: index; bg: index into BG_NAMES.

    Mix (measured over many draws): ~15% name the group alone (with or without the background),
    ~17% the object alone, ~40% object + background, ~30% mention the group; each kind must be
    common enough that a prompt of that kind steers the picture."""
    subject = short if (short and short != name and rng.random() < 0.15) else name
    g = group_phrase(group)
    b = BG_NAMES[bg]
    r = rng.random()
    if r < 0.10:
        return f'{g} on a {b} background'
    if r < 0.15:
        return f'{g}'
    s = subject
    if rng.random() < 0.7:
        s += rng.choice([f' on a {b} background', f' on {b}', f', {b} background'])
    if rng.random() < 0.35:
        s += f', {g}'
    return s


def all_caption_words(names, shorts):
    """Every string any template can produce words from (order fixed for a stable vocabulary)."""
    out = list(names) + list(shorts)
    out += [group_phrase(i) for i in range(len(GROUPS))]
    out += [f'on a {b} background ,' for b in BG_NAMES]
    return out
