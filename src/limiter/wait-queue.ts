/**
 * The waiting line: a doubly linked list, so a caller that leaves (disconnect,
 * timeout) is removed in O(1) and the line never carries dead entries.
 * A plain data structure on purpose: fair queuing and priorities will
 * replace the order policy here without touching the dispatcher.
 */
export interface QueueNode {
  prev: QueueNode | null;
  next: QueueNode | null;
  queued: boolean;
}

export class WaitQueue<T extends QueueNode> {
  private head: T | null = null;
  private tail: T | null = null;
  private count = 0;

  get size(): number {
    return this.count;
  }

  peek(): T | null {
    return this.head;
  }

  push(node: T): void {
    node.prev = this.tail;
    node.next = null;
    if (this.tail) this.tail.next = node;
    else this.head = node;
    this.tail = node;
    node.queued = true;
    this.count++;
  }

  /** Puts a node at the head: a retry keeps its place ahead of newcomers. */
  unshift(node: T): void {
    node.next = this.head;
    node.prev = null;
    if (this.head) this.head.prev = node;
    else this.tail = node;
    this.head = node;
    node.queued = true;
    this.count++;
  }

  remove(node: T): boolean {
    if (!node.queued) return false;
    if (node.prev) node.prev.next = node.next;
    else this.head = node.next as T | null;
    if (node.next) node.next.prev = node.prev;
    else this.tail = node.prev as T | null;
    node.prev = node.next = null;
    node.queued = false;
    this.count--;
    return true;
  }

  shift(): T | null {
    const h = this.head;
    if (h) this.remove(h);
    return h;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let n = this.head; n; n = n.next as T | null) yield n;
  }
}
