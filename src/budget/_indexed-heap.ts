// A binary min-heap whose nodes know their own position, so that a node whose key changed (a hit) or that
// goes away (a delete) is fixed in O(log n) where it stands, with no stale copies left behind to skip later.

/** What the heap needs of a node: where it is (-1 when it is not in the heap). */
export interface HeapNode {
  heapIndex: number;
}

/** A min-heap of nodes in the order `before` gives: push, pop, remove and update in O(log n), peek in O(1). */
export class IndexedHeap<T extends HeapNode> {
  private readonly items: T[] = [];

  /** @param before - whether `a` comes out before `b`: a strict total order, so ties are never left to the layout. */
  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get length(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(node: T): void {
    node.heapIndex = this.items.length;
    this.items.push(node);
    this.up(node.heapIndex);
  }

  pop(): T | undefined {
    const top = this.items[0];
    if (top !== undefined) this.remove(top);
    return top;
  }

  /** Takes out a node that is in the heap. */
  remove(node: T): void {
    const i = node.heapIndex;
    const last = this.items.pop()!;
    node.heapIndex = -1;
    if (last === node) return;
    this.items[i] = last;
    last.heapIndex = i;
    this.update(last);
  }

  /** Puts back in order a node (in the heap) whose key changed either way. */
  update(node: T): void {
    if (!this.up(node.heapIndex)) this.down(node.heapIndex);
  }

  private up(i: number): boolean {
    const { items } = this;
    const node = items[i];
    const start = i;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(node, items[parent])) break;
      items[i] = items[parent];
      items[i].heapIndex = i;
      i = parent;
    }
    items[i] = node;
    node.heapIndex = i;
    return i !== start;
  }

  private down(i: number): void {
    const { items } = this;
    const n = items.length;
    const node = items[i];
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && this.before(items[child + 1], items[child])) child++;
      if (!this.before(items[child], node)) break;
      items[i] = items[child];
      items[i].heapIndex = i;
      i = child;
    }
    items[i] = node;
    node.heapIndex = i;
  }
}
