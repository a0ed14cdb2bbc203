/** A bounded undo stack (the mask painter keeps ImageData snapshots in one). */
export class UndoStack<T> {
  #items: T[] = [];
  readonly limit: number;

  constructor(limit = 30) {
    this.limit = limit;
  }

  push(item: T): void {
    this.#items.push(item);
    if (this.#items.length > this.limit) this.#items.splice(0, this.#items.length - this.limit);
  }

  pop(): T | undefined {
    return this.#items.pop();
  }

  clear(): void {
    this.#items = [];
  }

  get size(): number {
    return this.#items.length;
  }
}
