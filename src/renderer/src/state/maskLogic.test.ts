import { describe, expect, it } from 'vitest';
import { colourDistance, contrastingColour, cssColour, MASK_COLOURS, meanColour } from './maskLogic';

describe('mask overlay colour', () => {
  it('averages pixels by their alpha', () => {
    expect(meanColour([255, 0, 0, 255, 0, 0, 255, 255])).toEqual([127.5, 0, 127.5]);
    expect(meanColour([255, 0, 0, 255, 0, 255, 0, 0])).toEqual([255, 0, 0]);
    expect(meanColour([])).toEqual([0, 0, 0]);
  });

  it('picks a colour unlike the picture', () => {
    const name = (colours: [number, number, number][]) => contrastingColour(colours).name;
    // never green on a green picture, magenta on a pink one or cyan on a sky blue one
    expect(name([[30, 200, 60]])).not.toBe('Green');
    expect(name([[250, 60, 160]])).not.toBe('Magenta');
    expect(name([[0, 190, 250]])).not.toBe('Cyan');
    // a picture that is half pink and half green rules both out
    expect(['Cyan', 'Yellow']).toContain(name([[250, 60, 160], [30, 200, 60]]));
  });

  it('measures distance symmetrically, zero for the same colour', () => {
    const [a, b] = [MASK_COLOURS[0]!.rgb, MASK_COLOURS[1]!.rgb];
    expect(colourDistance(a, a)).toBe(0);
    expect(colourDistance(a, b)).toBeCloseTo(colourDistance(b, a));
    expect(cssColour([1, 2, 3])).toBe('rgb(1, 2, 3)');
  });
});
