/** The contract's operations, from the dependency-free list in shared/, so the renderer does not bundle zod for the names. */
export { OPERATION_NAMES } from '../../../shared/operations';
