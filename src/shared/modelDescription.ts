/**
 * How a model is named in one line, the same in the studio's toasts and the CLI's
 * `models add` answer: "Noto emoji (pixel, 32x32, txt2img/img2img/inpaint)". No Node, no DOM.
 */
import type { ModelSummary } from './contract';

/** The heading of the exact reference models (closed-form Gaussian mixtures), listed apart from the models that make pictures. */
export const TESTING_HEADING = 'For testing solvers';
export const PICTURES_HEADING = 'Models that make pictures';

export function modelLine(model: Pick<ModelSummary, 'name' | 'kind' | 'width' | 'height' | 'tasks'>): string {
  const size = model.width && model.height ? `${model.width}x${model.height}` : 'any size';
  const parts = [model.kind, size, ...(model.tasks.length > 0 ? [model.tasks.join('/')] : [])];
  return `${model.name} (${parts.join(', ')})`;
}

/** Models that make pictures first, then the exact reference models; each group keeps the list's order. */
export function groupModels<M extends Pick<ModelSummary, 'forTesting'>>(models: readonly M[]): { pictures: M[]; testing: M[] } {
  return { pictures: models.filter((m) => !m.forTesting), testing: models.filter((m) => m.forTesting) };
}
