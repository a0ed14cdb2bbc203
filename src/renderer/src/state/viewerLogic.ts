/** The image viewer's arithmetic: zoom, stepping through the gallery, and the settings it lists. */
import type { GenerationRecord } from '../../../shared/contract';
import { SOLVERS } from '../../../shared/solvers';
import { formatCost, TASK_LABELS } from './settingsLogic';
import { pickerName } from './solverLogic';

/** 'fit': as large as the view allows; a number: CSS pixels per image pixel. */
export type Zoom = 'fit' | number;

/** The zoom buttons. */
export const ZOOM_PRESETS: readonly Zoom[] = ['fit', 1, 2, 4];
export const MIN_SCALE = 0.1;
export const MAX_SCALE = 64;

/**
 * The scale at which a w x h picture fits a box. A picture smaller than the box is enlarged by
 * a whole factor only, so that every image pixel becomes the same number of screen pixels
 * (a 32x32 sample at 13.7x would show uneven pixel rows); a larger one shrinks smoothly.
 */
export function fitScale(width: number, height: number, boxWidth: number, boxHeight: number): number {
  if (width <= 0 || height <= 0 || boxWidth <= 0 || boxHeight <= 0) return 1;
  const s = Math.min(boxWidth / width, boxHeight / height);
  return s >= 1 ? Math.floor(s) : s;
}

/** The scale a zoom gives in a box. */
export function scaleOf(zoom: Zoom, width: number, height: number, boxWidth: number, boxHeight: number): number {
  return zoom === 'fit' ? fitScale(width, height, boxWidth, boxHeight) : zoom;
}

/**
 * The scale after one wheel event: deltaY < 0 zooms in. A notch of a mouse wheel (about 100
 * px of deltaY) is a factor of 1.25; a touchpad's small deltas zoom as smoothly as they come.
 * Near a whole factor it snaps to it, so that pixel art lands on square pixels again.
 */
export function wheelScale(scale: number, deltaY: number): number {
  const next = scale * Math.pow(1.25, -deltaY / 100);
  const whole = Math.round(next);
  const snapped = whole >= 1 && Math.abs(next - whole) < 0.04 * whole ? whole : next;
  return Math.min(MAX_SCALE, Math.max(MIN_SCALE, snapped));
}

/** Zoom in or out one preset step (the + and - keys): whole factors upwards of 1, halves below. */
export function stepScale(scale: number, direction: 1 | -1): number {
  const next = direction > 0 ? (scale >= 1 ? Math.floor(scale) + 1 : Math.min(1, scale * 2)) : scale > 1 ? Math.ceil(scale) - 1 : scale / 2;
  return Math.min(MAX_SCALE, Math.max(MIN_SCALE, next));
}

/** Smooth scaling blurs a zoomed-in picture; whole-pixel blocks are what an artist inspects. */
export function pixelatedAt(scale: number, width: number, height: number): boolean {
  return scale >= 2 || (scale > 1 && Math.max(width, height) < 96);
}

/** "Fit (8x)", "1x", "250%": the zoom readout. */
export function zoomLabel(zoom: Zoom, scale: number): string {
  const amount = Number.isInteger(scale) ? `${scale}x` : `${Math.round(scale * 100)}%`;
  return zoom === 'fit' ? `Fit (${amount})` : amount;
}

/**
 * The index `delta` away from `index` in a list of `total`, or null past either end (the
 * viewer stops at the ends rather than wrapping, as the gallery grid does). An index that is
 * not in the list (-1: the shown picture is filtered out) starts at the first item.
 */
export function stepIndex(index: number, delta: number, total: number): number | null {
  if (total <= 0) return null;
  if (index < 0) return 0;
  const next = index + delta;
  return next >= 0 && next < total ? next : null;
}

/**
 * Where the picture's left (or top) edge should be, in view coordinates, after the scale
 * changes from `from` to `to`, so that the picture point under the pointer stays under it
 * (zooming with the wheel goes where the mouse is, as in every image viewer).
 */
export function anchoredEdge(edge: number, pointer: number, from: number, to: number): number {
  return pointer - ((pointer - edge) * to) / from;
}

/** The settings an artist reads beside the picture, as [label, value] pairs. */
export function viewerFacts(r: GenerationRecord): [string, string][] {
  const s = r.settings;
  const solver = SOLVERS.find((x) => x.id === s.solver);
  const steps = Array.isArray(s.spacing) ? `${s.spacing.length} (explicit timesteps)` : String(s.steps);
  const facts: [string, string][] = [['Prompt', s.prompt || '(empty)']];
  if (s.negativePrompt) facts.push(['Negative prompt', s.negativePrompt]);
  if (s.task !== 'txt2img') facts.push(['Task', `${TASK_LABELS[s.task]}${s.task === 'inpaint' ? '' : `, strength ${s.strength}`}`]);
  facts.push(
    ['Solver', solver ? pickerName(solver) : s.solver],
    ['Steps', steps],
    ['Spacing', Array.isArray(s.spacing) ? 'explicit' : s.spacing],
    ['Guidance', String(s.guidance)],
  );
  if (s.classLabel !== null) facts.push(['Class', `${s.classLabel}, scale ${s.classifierScale}`]);
  if (s.eta !== undefined && s.eta !== 0 && solver?.family === 'ddim') facts.push(['Eta', String(s.eta)]);
  facts.push(['Seed', String(s.seed)], ['Size', `${r.width}×${r.height}`], ['Cost', formatCost(r.cost)], ['Model', r.modelName]);
  if (r.parentId !== null) facts.push(['Re-run of', `#${r.parentId}`]);
  return facts;
}

/** "3 of 14" (the place in the gallery's current order), or '' when it is not in the list. */
export function placeLabel(index: number, total: number): string {
  return index >= 0 && index < total ? `${index + 1} of ${total}` : '';
}
