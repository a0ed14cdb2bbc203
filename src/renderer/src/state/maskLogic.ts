/** The mask painter's overlay colour: a few saturated choices, and the one that stands out on a picture. */

export type Rgb = readonly [number, number, number];

export interface MaskColour {
  name: string;
  rgb: Rgb;
}

/** Saturated and far apart, so that one of them contrasts with any picture. */
export const MASK_COLOURS: readonly MaskColour[] = [
  { name: 'Magenta', rgb: [255, 40, 150] },
  { name: 'Green', rgb: [40, 235, 80] },
  { name: 'Cyan', rgb: [0, 200, 255] },
  { name: 'Yellow', rgb: [255, 220, 0] },
];

/** The mean colour of RGBA pixels, weighting each by its alpha (a transparent corner counts for nothing). */
export function meanColour(rgba: ArrayLike<number>): Rgb {
  let r = 0;
  let g = 0;
  let b = 0;
  let weight = 0;
  for (let i = 0; i + 3 < rgba.length; i += 4) {
    const a = rgba[i + 3]!;
    r += rgba[i]! * a;
    g += rgba[i + 1]! * a;
    b += rgba[i + 2]! * a;
    weight += a;
  }
  return weight === 0 ? [0, 0, 0] : [r / weight, g / weight, b / weight];
}

/**
 * The choice farthest from the picture's colours: the smallest distance from any of `colours`
 * (a few representative picture colours, e.g. the mean of each quarter), made largest. Distance
 * is Euclidean in RGB with the channels weighted as the eye weighs them (the "redmean" rule of
 * thumb), so a green mask is not picked for a mostly green picture.
 */
export function contrastingColour(colours: readonly Rgb[], choices: readonly MaskColour[] = MASK_COLOURS): MaskColour {
  let best = choices[0]!;
  let bestDistance = -1;
  for (const choice of choices) {
    const nearest = Math.min(...colours.map((c) => colourDistance(c, choice.rgb)));
    if (nearest > bestDistance) {
      best = choice;
      bestDistance = nearest;
    }
  }
  return best;
}

export function colourDistance(a: Rgb, b: Rgb): number {
  const rMean = (a[0] + b[0]) / 2;
  const dr = a[0] - b[0];
  const dg = a[1] - b[1];
  const db = a[2] - b[2];
  return Math.sqrt((2 + rMean / 256) * dr * dr + 4 * dg * dg + (2 + (255 - rMean) / 256) * db * db);
}

export function cssColour(rgb: Rgb): string {
  return `rgb(${rgb[0]}, ${rgb[1]}, ${rgb[2]})`;
}
