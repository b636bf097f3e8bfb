/**
 * The waiting line, fair: a drop-in for WaitQueue (same methods, same node
 * links) whose order is
 *
 *   1. strict priority: a higher `priority` is always served first;
 *   2. within one priority, deficit round robin (DRR, Shreedhar & Varghese
 *      1995) between flows — one flow per client key — weighted by `weight`;
 *   3. FIFO within a flow.
 *
 * So a client that sends a burst of 1,000 does not make a client with 10
 * wait behind all of it: turns alternate, and each flow gets `weight` ×
 * `quantum` of cost per round.
 *
 * DRR in short: active flows wait in a round-robin list. When a flow's turn
 * comes it earns `quantum × weight` in its deficit; it is served while its
 * head's cost fits the deficit, then goes to the back of the list keeping
 * what is left. A flow that empties forfeits its deficit (no saving up
 * credit while idle). The unit is `cost` (default 1 per request), so shares
 * are in requests. To share tokens instead, give each node its token cost
 * (e.g. input tokens + max_tokens) and pass a quantum near a typical
 * request's cost (`new FairQueue({ quantum: 1000 })`); a head dearer than
 * its flow's quantum simply waits more rounds, computed at once.
 *
 * Costs: push, unshift, remove O(1) (plus O(P) to open or close one of P
 * distinct priority levels — a handful in practice); peek and shift O(1)
 * amortised (the turns passed over are paid for by earlier services).
 * Memory: the nodes, plus one record per non-empty flow and level.
 *
 * Requests ahead: a newcomer's wait depends on its flow, not on the whole
 * line's length; `aheadOf(node)` estimates it for early 503s.
 *
 * Starvation: strict priority can hold low priorities back for as long as
 * higher ones keep coming. That is bounded outside this structure, by each
 * request's max_wait (the dispatcher answers 503 at its deadline).
 *
 * Service and leaving: `shift()` serves the next node. `remove(node)` of the
 * node that is next to be served at its level (what `peek()` returns when
 * that level is on top) also counts as serving it — the dispatcher takes
 * its head with `remove(head)` after a successful claim — so a flow is
 * charged either way. Removing any other node charges nothing.
 *
 * Links: a node's `prev`/`next` point to its neighbours within its flow
 * (not across the whole line as in WaitQueue); only this class reads them.
 */
import { linkFirst, linkLast, unlink } from "./linked-list.ts";
import type { QueueNode } from "./wait-queue.ts";

export interface FairNode extends QueueNode {
  /** The flow this node belongs to: one per client key. */
  readonly flow: string;
  /**
   * The flow's share of its level relative to other flows (default 1; ≤ 0 or
   * not finite reads as 1). A flow takes the weight of its latest queued node.
   */
  readonly weight?: number;
  /** Higher first (default 0). Must not change while queued. */
  readonly priority?: number;
  /** What serving this node costs its flow, in quantum units (default 1: fairness in requests; ≤ 0 or not finite reads as 1). */
  readonly cost?: number;
}

export interface FairQueueOptions {
  /** Deficit earned per turn by a flow of weight 1, in cost units (default 1). */
  readonly quantum?: number;
}

interface Flow<T> {
  readonly key: string;
  readonly level: Level<T>;
  weight: number;
  /** Cost the flow may still spend in its current or next turn. */
  deficit: number;
  /** Whether the flow has earned its quantum for the turn it holds or held (cleared when it goes to the back). */
  granted: boolean;
  head: T | null;
  tail: T | null;
  count: number;
  /** Sum of the queued nodes' costs. */
  costSum: number;
  /** Round-robin links among the level's active flows. */
  prev: Flow<T> | null;
  next: Flow<T> | null;
}

interface Level<T> {
  readonly priority: number;
  readonly flows: Map<string, Flow<T>>;
  /** Round-robin order of the active flows: `head` holds the turn. */
  head: Flow<T> | null;
  tail: Flow<T> | null;
  count: number;
}

export class FairQueue<T extends FairNode> {
  private readonly quantum: number;
  /** Non-empty levels, highest priority first. */
  private readonly levels: Level<T>[] = [];
  private readonly byPriority = new Map<number, Level<T>>();
  private count = 0;

  constructor(opts: FairQueueOptions = {}) {
    const q = opts.quantum ?? 1;
    if (!(q > 0 && Number.isFinite(q))) throw new RangeError("FairQueue: quantum must be a positive number");
    this.quantum = q;
  }

  get size(): number {
    return this.count;
  }

  /** Non-empty flows, across all priorities (for stats). */
  get flowCount(): number {
    let n = 0;
    for (const l of this.levels) n += l.flows.size;
    return n;
  }

  /** The node shift() would return; stable until the queue changes. */
  peek(): T | null {
    const level = this.levels[0];
    return level ? this.select(level).head : null;
  }

  /** Joins the back of its flow; a flow new to its level joins the back of the round. */
  push(node: T): void {
    const level = this.levelFor(priorityOf(node));
    let flow = level.flows.get(node.flow);
    if (!flow) {
      flow = this.openFlow(level, node.flow);
      linkLast(level, flow);
    }
    flow.weight = weightOf(node);
    linkLast(flow, node);
    this.linked(flow, node);
  }

  /**
   * A retry: the node goes to the front of its flow and its flow takes the
   * turn now, ahead of the other flows at its priority (still behind any
   * higher priority). Its cost is credited back to the flow — it was charged
   * when the request was first served, and this is the same request again.
   * The flow that held the turn resumes it afterwards, without a new quantum.
   */
  unshift(node: T): void {
    const level = this.levelFor(priorityOf(node));
    let flow = level.flows.get(node.flow);
    if (!flow) flow = this.openFlow(level, node.flow);
    else unlink(level, flow);
    linkFirst(level, flow);
    flow.weight = weightOf(node);
    flow.granted = true;
    flow.deficit += costOf(node);
    linkFirst(flow, node);
    this.linked(flow, node);
  }

  /** Takes a node out wherever it is; false if it was not queued. See the note on service and leaving. */
  remove(node: T): boolean {
    if (!node.queued) return false;
    const level = this.byPriority.get(priorityOf(node));
    const flow = level?.flows.get(node.flow);
    if (!level || !flow) return false; // not ours: its priority or flow changed while queued
    if (isNext(level, flow, node, costOf(node))) flow.deficit -= costOf(node);
    unlink(flow, node);
    node.queued = false;
    flow.count--;
    flow.costSum -= costOf(node);
    level.count--;
    this.count--;
    if (flow.count === 0) this.closeFlow(level, flow);
    return true;
  }

  shift(): T | null {
    const h = this.peek();
    if (h) this.remove(h);
    return h;
  }

  /**
   * About how many queued nodes would be served before `node` if it were
   * pushed now and nothing else arrived — what "requests ahead" means in a
   * fair line (queue.size is only right for FIFO): every higher priority,
   * the node's own flow, and from each other flow at its priority what that
   * flow gets in the rounds the node's flow needs. Exact to within one
   * round (turn order and leftover deficits are not counted). O(flows at
   * its priority + levels).
   */
  aheadOf(node: T): number {
    const p = priorityOf(node);
    let ahead = 0;
    for (const l of this.levels) if (l.priority > p) ahead += l.count;
    const level = this.byPriority.get(p);
    if (!level) return ahead;
    const own = level.flows.get(node.flow);
    const ownCost = (own?.costSum ?? 0) + costOf(node);
    const rounds = ownCost / (this.quantum * weightOf(node));
    ahead += own?.count ?? 0;
    for (const f of level.flows.values()) {
      if (f === own || f.costSum === 0) continue;
      const served = Math.min(f.costSum, Math.ceil(rounds) * this.quantum * f.weight);
      ahead += Math.min(f.count, Math.ceil((served / f.costSum) * f.count));
    }
    return ahead;
  }

  /**
   * Every node in the order repeated shift() calls would return them, without
   * changing the queue. Each step is O(1) amortised. Do not change the queue
   * while iterating.
   */
  *[Symbol.iterator](): IterableIterator<T> {
    for (const level of this.levels) {
      const ring: SimFlow<T>[] = [];
      for (let f = level.head; f; f = f.next) {
        ring.push({ weight: f.weight, deficit: f.deficit, granted: f.granted, node: f.head!, cost: costOf(f.head!) });
      }
      yield* simulate(ring, this.quantum);
    }
  }

  /**
   * Makes the level's first flow one whose head fits its deficit, moving
   * turns on as DRR would, and returns it. Deterministic and idempotent:
   * calling it twice without a change in between returns the same flow.
   */
  private select(level: Level<T>): Flow<T> {
    let misses = 0;
    for (;;) {
      const f = level.head!;
      if (!f.granted) {
        f.deficit += this.quantum * f.weight;
        f.granted = true;
      }
      const cost = costOf(f.head!);
      if (cost <= f.deficit) return f;
      // Turn over: to the back of the round, keeping the deficit.
      f.granted = false;
      if (level.head !== level.tail) {
        unlink(level, f);
        linkLast(level, f);
      }
      if (++misses >= level.flows.size) {
        fastForward(roundOf(level), (x) => costOf(x.head!), this.quantum);
        misses = 0;
      }
    }
  }

  private levelFor(priority: number): Level<T> {
    let level = this.byPriority.get(priority);
    if (level) return level;
    level = { priority, flows: new Map(), head: null, tail: null, count: 0 };
    this.byPriority.set(priority, level);
    let i = 0;
    while (i < this.levels.length && this.levels[i]!.priority > priority) i++;
    this.levels.splice(i, 0, level);
    return level;
  }

  private openFlow(level: Level<T>, key: string): Flow<T> {
    const flow: Flow<T> = { key, level, weight: 1, deficit: 0, granted: false, head: null, tail: null, count: 0, costSum: 0, prev: null, next: null };
    level.flows.set(key, flow);
    return flow;
  }

  private linked(flow: Flow<T>, node: T): void {
    node.queued = true;
    flow.count++;
    flow.costSum += costOf(node);
    flow.level.count++;
    this.count++;
  }

  /** An emptied flow leaves the round and forgets its deficit; an emptied level goes too. */
  private closeFlow(level: Level<T>, flow: Flow<T>): void {
    unlink(level, flow);
    level.flows.delete(flow.key);
    if (level.count === 0) {
      this.byPriority.delete(level.priority);
      this.levels.splice(this.levels.indexOf(level), 1);
    }
  }
}

/** Whether `node` is the one DRR serves next at its level (its flow holds the turn and can pay for it). */
function isNext<T>(level: Level<T>, flow: Flow<T>, node: T, cost: number): boolean {
  return level.head === flow && flow.granted && flow.head === node && cost <= flow.deficit;
}

function roundOf<T>(level: Level<T>): Flow<T>[] {
  const out: Flow<T>[] = [];
  for (let f = level.head; f; f = f.next) out.push(f);
  return out;
}

/**
 * A whole round passed and no head fitted its deficit (costs above the
 * quantum): skip the k further empty rounds at once, crediting every flow
 * what k turns would have earned. Exactly what looping would do, in O(flows).
 */
function fastForward<F extends { weight: number; deficit: number }>(round: readonly F[], cost: (f: F) => number, quantum: number): void {
  let k = Infinity;
  for (const f of round) k = Math.min(k, Math.ceil((cost(f) - f.deficit) / (quantum * f.weight)) - 1);
  if (k > 0 && Number.isFinite(k)) for (const f of round) f.deficit += k * quantum * f.weight;
}

/** A flow in the iterator's dry run: its DRR state and its next node. */
interface SimFlow<T> {
  weight: number;
  deficit: number;
  granted: boolean;
  node: T;
  cost: number;
}

/** The order repeated shifts would produce at one level, on a copy of its DRR state. */
function* simulate<T extends FairNode>(ring: SimFlow<T>[], quantum: number): Generator<T> {
  let head = 0; // ring[head..] is the round, ring[head] holds the turn
  let misses = 0;
  while (head < ring.length) {
    const f = ring[head]!;
    if (!f.granted) {
      f.deficit += quantum * f.weight;
      f.granted = true;
    }
    if (f.cost <= f.deficit) {
      yield f.node;
      misses = 0;
      f.deficit -= f.cost;
      const next = f.node.next as T | null;
      if (next) {
        f.node = next;
        f.cost = costOf(next);
      } else {
        head++; // emptied: out of the round
      }
      continue;
    }
    f.granted = false;
    if (ring.length - head > 1) {
      ring.push(f);
      head++;
    }
    if (++misses >= ring.length - head) {
      fastForward(ring.slice(head), (x) => x.cost, quantum);
      misses = 0;
    }
    if (head > 1024 && head * 2 > ring.length) {
      ring.splice(0, head);
      head = 0;
    }
  }
}

function priorityOf(n: FairNode): number {
  const p = n.priority ?? 0;
  return Number.isFinite(p) ? p : 0;
}

function weightOf(n: FairNode): number {
  const w = n.weight ?? 1;
  return w > 0 && Number.isFinite(w) ? w : 1;
}

function costOf(n: FairNode): number {
  const c = n.cost ?? 1;
  return c > 0 && Number.isFinite(c) ? c : 1; // a free node could be served forever in one turn
}
