import { toCallError } from '../transport';

export interface Toast {
  id: number;
  /** 'warn': something worked, with caveats (e.g. a PNG's settings that could not all be carried over). */
  kind: 'error' | 'warn' | 'info';
  message: string;
  /** A button on the toast (Undo after a Delete). */
  action?: ToastAction;
}

export interface ToastAction {
  label: string;
  run: () => void;
}

/** Short messages over the stage; errors stay longer and can be dismissed. */
export class ToastState {
  items = $state.raw<Toast[]>([]);
  #next = 1;

  push(kind: Toast['kind'], message: string, ms = kind === 'error' ? 9000 : 4000, action?: ToastAction): void {
    const toast: Toast = { id: this.#next++, kind, message, ...(action ? { action } : {}) };
    this.items = [...this.items.slice(-4), toast];
    setTimeout(() => this.dismiss(toast.id), ms);
  }

  error(error: unknown, context?: string): void {
    const { message } = toCallError(error);
    this.push('error', context ? `${context}: ${message}` : message);
  }

  dismiss(id: number): void {
    this.items = this.items.filter((t) => t.id !== id);
  }
}
