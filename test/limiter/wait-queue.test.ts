// The waiting line: a doubly linked list with O(1) removal anywhere.
import { describe, expect, test } from "bun:test";
import { type QueueNode, WaitQueue } from "../../src/limiter/wait-queue.ts";

interface N extends QueueNode {
  id: number;
}
const node = (id: number): N => ({ id, prev: null, next: null, queued: false });
const ids = (q: WaitQueue<N>): number[] => [...q].map((n) => n.id);

/** Walks the list backwards from the tail via `prev`, to check both directions agree. */
function backwards(q: WaitQueue<N>): number[] {
  let tail: N | null = null;
  for (const n of q) tail = n;
  const out: number[] = [];
  for (let n: N | null = tail; n; n = n.prev as N | null) out.unshift(n.id);
  return out;
}

function queueOf(...idsIn: number[]): { q: WaitQueue<N>; nodes: N[] } {
  const q = new WaitQueue<N>();
  const nodes = idsIn.map(node);
  nodes.forEach((n) => q.push(n));
  return { q, nodes };
}

describe("WaitQueue", () => {
  test("empty", () => {
    const q = new WaitQueue<N>();
    expect(q.size).toBe(0);
    expect(q.peek()).toBeNull();
    expect(q.shift()).toBeNull();
    expect(ids(q)).toEqual([]);
  });

  test("push keeps FIFO order; shift takes the head", () => {
    const { q, nodes } = queueOf(1, 2, 3);
    expect(q.size).toBe(3);
    expect(q.peek()).toBe(nodes[0]!);
    expect(ids(q)).toEqual([1, 2, 3]);
    expect(backwards(q)).toEqual([1, 2, 3]);
    expect(q.shift()!.id).toBe(1);
    expect(nodes[0]!.queued).toBe(false);
    expect(q.shift()!.id).toBe(2);
    expect(q.shift()!.id).toBe(3);
    expect(q.shift()).toBeNull();
    expect(q.size).toBe(0);
  });

  test("unshift puts a node at the head", () => {
    const { q } = queueOf(1, 2);
    q.unshift(node(0));
    expect(ids(q)).toEqual([0, 1, 2]);
    expect(backwards(q)).toEqual([0, 1, 2]);
    const e = new WaitQueue<N>();
    e.unshift(node(7)); // into an empty queue: head and tail
    e.push(node(8));
    expect(ids(e)).toEqual([7, 8]);
    expect(backwards(e)).toEqual([7, 8]);
  });

  test("remove from the middle, the head and the tail", () => {
    const { q, nodes } = queueOf(1, 2, 3, 4, 5);
    expect(q.remove(nodes[2]!)).toBe(true);
    expect(ids(q)).toEqual([1, 2, 4, 5]);
    expect(q.remove(nodes[0]!)).toBe(true);
    expect(ids(q)).toEqual([2, 4, 5]);
    expect(q.peek()!.id).toBe(2);
    expect(q.remove(nodes[4]!)).toBe(true);
    expect(ids(q)).toEqual([2, 4]);
    expect(backwards(q)).toEqual([2, 4]);
    expect(q.size).toBe(2);
    q.push(node(6)); // the tail pointer was updated
    expect(ids(q)).toEqual([2, 4, 6]);
    expect(backwards(q)).toEqual([2, 4, 6]);
  });

  test("removing the only node empties the queue", () => {
    const { q, nodes } = queueOf(1);
    q.remove(nodes[0]!);
    expect(q.size).toBe(0);
    expect(q.peek()).toBeNull();
    q.push(node(2));
    expect(ids(q)).toEqual([2]);
  });

  test("a removed node is unlinked; removing it again is a no-op", () => {
    const { q, nodes } = queueOf(1, 2, 3);
    const mid = nodes[1]!;
    expect(q.remove(mid)).toBe(true);
    expect([mid.prev, mid.next, mid.queued]).toEqual([null, null, false]);
    expect(q.remove(mid)).toBe(false);
    expect(q.size).toBe(2);
    expect(ids(q)).toEqual([1, 3]);
    const shifted = q.shift()!;
    expect(q.remove(shifted)).toBe(false);
    expect(q.size).toBe(1);
    expect(ids(q)).toEqual([3]);
  });

  test("a node may be queued again after leaving", () => {
    const { q, nodes } = queueOf(1, 2);
    q.remove(nodes[0]!);
    q.push(nodes[0]!);
    expect(ids(q)).toEqual([2, 1]);
    expect(q.size).toBe(2);
  });

  test("size follows every operation", () => {
    const q = new WaitQueue<N>();
    const ns = [1, 2, 3, 4].map(node);
    q.push(ns[0]!);
    q.unshift(ns[1]!);
    q.push(ns[2]!);
    expect(q.size).toBe(3);
    q.remove(ns[0]!);
    expect(q.size).toBe(2);
    q.remove(ns[3]!); // never queued
    expect(q.size).toBe(2);
    q.shift();
    expect(q.size).toBe(1);
    expect(ids(q)).toEqual([3]);
  });
});
