// A first-in first-out queue with O(1) shift, for the chunks a toxic holds.

export class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  /** Replaces the oldest item (e.g. with what is left of it after sending a part). */
  replaceHead(item: T): void {
    if (this.length === 0) throw new Error("Fifo.replaceHead on an empty queue");
    this.items[this.head] = item;
  }

  shift(): T | undefined {
    if (this.length === 0) return undefined;
    const item = this.items[this.head] as T;
    this.head += 1;
    if (this.head === this.items.length) this.clear();
    else if (this.head > 1024 && this.head * 2 > this.items.length) this.compact();
    return item;
  }

  /** Removes and returns every item, oldest first. */
  drain(): T[] {
    const all = this.items.slice(this.head);
    this.clear();
    return all;
  }

  private compact(): void {
    this.items = this.items.slice(this.head);
    this.head = 0;
  }

  private clear(): void {
    // Emptied in place: a latency toxic empties its queue on nearly every chunk.
    this.items.length = 0;
    this.head = 0;
  }
}
