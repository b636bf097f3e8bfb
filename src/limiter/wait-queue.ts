/**
 * The waiting line: a doubly linked list, so a caller that leaves (disconnect,
 * timeout) is removed in O(1) and the line never carries dead entries.
 * A plain data structure on purpose: fair queuing and priorities will
 * replace the order policy here without touching the dispatcher.
 */
import { linkFirst, linkLast, unlink, type Ends } from "./linked-list.ts";

export interface QueueNode {
  prev: QueueNode | null;
  next: QueueNode | null;
  queued: boolean;
}

export class WaitQueue<T extends QueueNode> {
  private readonly list: Ends<T> = { head: null, tail: null };
  private count = 0;

  get size(): number {
    return this.count;
  }

  peek(): T | null {
    return this.list.head;
  }

  push(node: T): void {
    linkLast(this.list, node);
    node.queued = true;
    this.count++;
  }

  /** Puts a node at the head: a retry keeps its place ahead of newcomers. */
  unshift(node: T): void {
    linkFirst(this.list, node);
    node.queued = true;
    this.count++;
  }

  remove(node: T): boolean {
    if (!node.queued) return false;
    unlink(this.list, node);
    node.queued = false;
    this.count--;
    return true;
  }

  shift(): T | null {
    const h = this.list.head;
    if (h) this.remove(h);
    return h;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let n = this.list.head; n; n = n.next as T | null) yield n;
  }
}
