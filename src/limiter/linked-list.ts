/**
 * Intrusive doubly linked lists: the nodes carry their own links, so a node
 * leaves its list in O(1) from wherever it is. The waiting lines (WaitQueue,
 * FairQueue's flows and their round-robin) are all built on these three moves.
 */
export interface Linked {
  prev: Linked | null;
  next: Linked | null;
}

/** A list: its first and last node. */
export interface Ends<N extends Linked> {
  head: N | null;
  tail: N | null;
}

export function linkLast<N extends Linked>(list: Ends<N>, node: N): void {
  node.prev = list.tail;
  node.next = null;
  if (list.tail) list.tail.next = node;
  else list.head = node;
  list.tail = node;
}

export function linkFirst<N extends Linked>(list: Ends<N>, node: N): void {
  node.next = list.head;
  node.prev = null;
  if (list.head) list.head.prev = node;
  else list.tail = node;
  list.head = node;
}

export function unlink<N extends Linked>(list: Ends<N>, node: N): void {
  if (node.prev) node.prev.next = node.next;
  else list.head = node.next as N | null;
  if (node.next) node.next.prev = node.prev;
  else list.tail = node.prev as N | null;
  node.prev = node.next = null;
}
