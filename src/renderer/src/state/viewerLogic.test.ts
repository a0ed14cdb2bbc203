import { describe, expect, it } from 'vitest';
import type { GenerationRecord } from '../../../shared/contract';
import { baseSettings } from './settingsLogic';
import { anchoredEdge, fitScale, pixelatedAt, placeLabel, scaleOf, stepIndex, stepScale, viewerFacts, wheelScale, zoomLabel } from './viewerLogic';

describe('zoom', () => {
  it('fits a small picture by a whole factor and shrinks a large one smoothly', () => {
    // 32x32 in 600x450: 14.06 -> 14 whole screen pixels per image pixel
    expect(fitScale(32, 32, 600, 450)).toBe(14);
    expect(fitScale(512, 512, 256, 400)).toBe(0.5);
    expect(fitScale(640, 480, 640, 480)).toBe(1);
    expect(fitScale(32, 32, 0, 0)).toBe(1);
    expect(scaleOf('fit', 32, 32, 600, 450)).toBe(14);
    expect(scaleOf(2, 32, 32, 600, 450)).toBe(2);
  });

  it('a wheel notch is a factor of 1.25 either way, snaps near whole factors and stays in bounds', () => {
    expect(wheelScale(4, -100)).toBe(5);
    expect(wheelScale(1, -100)).toBeCloseTo(1.25);
    expect(wheelScale(1.25, 100)).toBe(1);
    expect(wheelScale(0.5, 100)).toBeCloseTo(0.4);
    expect(wheelScale(64, -500)).toBe(64);
    expect(wheelScale(0.1, 500)).toBe(0.1);
  });

  it('+ and - step through whole factors above 1 and halves below', () => {
    expect(stepScale(3.4, 1)).toBe(4);
    expect(stepScale(3.4, -1)).toBe(3);
    expect(stepScale(1, -1)).toBe(0.5);
    expect(stepScale(0.5, 1)).toBe(1);
    expect(stepScale(0.3, 1)).toBe(0.6);
  });

  it('pixelates zoomed-in pictures, small ones from any enlargement', () => {
    expect(pixelatedAt(2, 512, 512)).toBe(true);
    expect(pixelatedAt(1.5, 512, 512)).toBe(false);
    expect(pixelatedAt(1.5, 32, 32)).toBe(true);
    expect(pixelatedAt(1, 32, 32)).toBe(false);
  });

  it('labels the zoom', () => {
    expect(zoomLabel('fit', 14)).toBe('Fit (14x)');
    expect(zoomLabel(2, 2)).toBe('2x');
    expect(zoomLabel(1.25, 1.25)).toBe('125%');
  });

  it('keeps the picture point under the pointer where it was', () => {
    // picture edge at 100, pointer at 300 (200 screen px = 50 image px at 4x); at 8x those
    // 50 image px are 400 screen px, so the edge goes to 300 - 400
    expect(anchoredEdge(100, 300, 4, 8)).toBe(-100);
    expect(anchoredEdge(100, 100, 4, 8)).toBe(100);
  });
});

describe('stepping', () => {
  it('moves within the list and stops at the ends', () => {
    expect(stepIndex(3, 1, 10)).toBe(4);
    expect(stepIndex(3, -1, 10)).toBe(2);
    expect(stepIndex(0, -1, 10)).toBeNull();
    expect(stepIndex(9, 1, 10)).toBeNull();
    expect(stepIndex(2, 4, 10)).toBe(6);
    expect(stepIndex(8, 4, 10)).toBeNull();
  });

  it('starts at the first item when the current one is not in the list, and has nothing in an empty one', () => {
    expect(stepIndex(-1, 1, 5)).toBe(0);
    expect(stepIndex(-1, -1, 5)).toBe(0);
    expect(stepIndex(0, 1, 0)).toBeNull();
  });

  it('says where in the list the picture is', () => {
    expect(placeLabel(2, 14)).toBe('3 of 14');
    expect(placeLabel(-1, 14)).toBe('');
  });
});

describe('viewerFacts', () => {
  const record = (changes: Partial<GenerationRecord['settings']> = {}): GenerationRecord => ({
    id: 7, createdAt: '2026-01-01T00:00:00Z', modelId: 'noto', modelName: 'Noto Emoji 32', prompt: 'red apple', solver: 'dpmpp2m', steps: 8, seed: 42,
    width: 32, height: 32, parentId: null, provider: 'cpu', durationMs: 120, warnings: [],
    settings: { ...baseSettings(), prompt: 'red apple', solver: 'dpmpp2m', steps: 8, seed: 42, guidance: 5, width: 32, height: 32, spacing: 'karras', ...changes },
    cost: { nfe: 16, networkRows: 32, classifierCalls: 0 } as GenerationRecord['cost'],
  });
  const facts = (r: GenerationRecord) => Object.fromEntries(viewerFacts(r));

  it('lists prompt, solver by its artist name, steps, guidance, seed, size and NFE', () => {
    const f = facts(record());
    expect(f).toMatchObject({ Prompt: 'red apple', Solver: 'DPM++ 2M', Steps: '8', Spacing: 'karras', Guidance: '5', Seed: '42', Size: '32×32', Cost: 'NFE 16 · 32 network rows', Model: 'Noto Emoji 32' });
    expect(f['Negative prompt']).toBeUndefined();
    expect(f.Task).toBeUndefined();
  });

  it('adds what a run had besides: negative prompt, task and strength, explicit steps, eta', () => {
    const f = facts(record({ negativePrompt: 'blurry', task: 'img2img', strength: 0.6, solver: 'ddim', eta: 0.5, spacing: [999, 500, 1] }));
    expect(f).toMatchObject({ 'Negative prompt': 'blurry', Task: 'Image to image, strength 0.6', Steps: '3 (explicit timesteps)', Spacing: 'explicit', Eta: '0.5' });
  });
});
