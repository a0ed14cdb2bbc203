/**
 * The names artists know the samplers by: AUTOMATIC1111's sampler names (also Forge's, and what
 * image hosts show) for this studio's solvers. The PNG export writes them, the PNG import reads
 * them back (src/main/core/gallery/a1111Infotext.ts), and the studio's picker shows them for
 * the classical samplers. No Node, no DOM.
 */
import { solverInfo } from './solvers';

/**
 * A1111's sampler name for a solver: its names for the classical samplers and DDIM, "PLMS" for
 * the 4th-order PLMS (A1111's only one); this studio's own label (PLMS-k, LTSP-k, STSP-k) for
 * the rest. The schedule (A1111's "Schedule type") is not part of the name.
 */
export function a1111SamplerName(solver: string): string {
  const info = solverInfo(solver);
  switch (info.family) {
    case 'ddim':
      return 'DDIM';
    case 'plms':
      return info.order === 4 ? 'PLMS' : `PLMS-${info.order}`;
    case 'dpmpp':
      return 'DPM++ 2M';
    case 'unipc':
      return 'UniPC';
    case 'euler':
      return 'Euler';
    case 'euler-a':
      return 'Euler a';
    case 'heun':
      return 'Heun';
    default:
      return info.label;
  }
}
