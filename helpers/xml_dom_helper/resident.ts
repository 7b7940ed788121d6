/**
 * @module
 * `ResidentDoc`: a loaded document whose parsed tree is kept only while it is in use. An xmldom
 * tree costs about 80 times its text (the bench's 2.7 KB, 362-node document: 216 KB of heap), and
 * a client may leave documents open for the whole handle TTL. After {@linkcode REST_AFTER_MS}
 * without a call ({@linkcode SMALL_REST_AFTER_MS} for a tree under {@linkcode SMALL_TREE_BYTES}), an unchanged document keeps only its text, its parse options and, for each node
 * id handed out, that node's position in document order; its next use parses the text again (the
 * same parse of the same text: the same tree) and gives each id back to the node at its position,
 * so ids stay valid and every result stays the same.
 *
 * The trees kept are also held to {@linkcode PARSED_BUDGET_BYTES} (estimated) per daemon runtime: past
 * it, the least recently used rest first, however recently (a client cycling through more large
 * documents than that pays a parse per call instead of the memory), except the one in use.
 *
 * A document keeps its tree for good once it has changed (xmldom's mutation counter `_inc` moved:
 * appended, removed or replaced children, set or removed attributes, clones made in it) or holds an
 * id of a node outside its tree (a created or cloned node, an XPath namespace node): its text no
 * longer describes it.
 */

import type { Document, Node } from "@xmldom/xmldom";
import type { Clock } from "../types.ts";
import { parseXml } from "./dom.ts";
import type { ParsedXml } from "./dom.ts";

/** Idle time after which an unchanged document keeps only its text. */
export const REST_AFTER_MS = 30_000;

/**
 * A tree under this (estimated) size rests after {@linkcode SMALL_REST_AFTER_MS} instead: parsing
 * it again costs under about 2 ms (the bench's 217 KB tree: 0.3 ms), well under 0.1 % of the
 * idle time, while such trees are what a client that opens documents and forgets them leaves.
 */
export const SMALL_TREE_BYTES = 1024 * 1024;
export const SMALL_REST_AFTER_MS = 10_000;

/** The most (estimated) bytes of trees that can rest kept at once, per daemon runtime. */
export const PARSED_BUDGET_BYTES = 64 * 1024 * 1024;

/**
 * Estimated heap of a tree: per node (attributes included) and per character of its text. Measured
 * with scripts/bench/handle_cost.ts: the bench's 362-node, 2,676-character document takes 216 KB.
 */
const NODE_BYTES = 600;
const CHAR_BYTES = 2;

type Tree = Node & { _inc?: number; attributes?: ArrayLike<Node> };

/** Calls `visit` for every node of `doc` in document order (attributes after their element). */
function eachInOrder(doc: Node, visit: (node: Node, position: number) => void): void {
  let position = 0;
  let n: Tree | null = doc as Tree;
  while (n) {
    visit(n, position++);
    const attrs = n.attributes;
    if (attrs) { for (let i = 0; i < attrs.length; i++) visit(attrs[i]!, position++); }
    if (n.firstChild) {
      n = n.firstChild as Tree;
      continue;
    }
    // Up to the nearest ancestor with a next sibling (or out of the tree at its root).
    while (n && n !== doc && !n.nextSibling) n = n.parentNode as Tree | null;
    n = n && n !== doc ? n.nextSibling as Tree | null : null;
  }
}

/** The documents of one runtime that have a tree that can rest, least recently used first. */
interface Parsed {
  readonly docs: Set<ResidentDoc>;
  /** Their trees' estimated bytes. */
  bytes: number;
}

/** Per clock, i.e. per daemon runtime (each has its own). */
const PARSED = new WeakMap<Clock, Parsed>();

function parsedOf(clock: Clock): Parsed {
  let p = PARSED.get(clock);
  if (!p) PARSED.set(clock, p = { docs: new Set(), bytes: 0 });
  return p;
}

/**
 * Lets every document of `clock` that has not been used for its rest time ({@linkcode REST_AFTER_MS},
 * or {@linkcode SMALL_REST_AFTER_MS} for a small tree) keep only its text (called at the start of
 * each XML helper call, so no timer is needed).
 */
export function restIdleDocuments(clock: Clock): void {
  const parsed = PARSED.get(clock);
  if (!parsed || parsed.docs.size === 0) return;
  const now = clock.now();
  for (const d of parsed.docs) {
    const idle = now - d.lastUsed;
    // Least recently used first: from here on every document is younger than the shortest rest
    // time. Before that, only large trees (at most 64 of them under the budget) are passed over.
    if (idle < SMALL_REST_AFTER_MS) return;
    if (idle >= d.restAfterMs) d.rest();
  }
}

/** One document: its tree while in use, its text while at rest, and its node ids throughout. */
export class ResidentDoc {
  readonly #clock: Clock;
  readonly #text: string;
  readonly #keepCdata: boolean;
  /** The tree; undefined while at rest. */
  #tree: Document | undefined;
  /** `_inc` right after parsing: any later change means the text no longer describes the tree. */
  #inc: number;
  /** Changed, or holding ids of nodes outside the tree: the tree is kept. */
  #pinned = false;
  /** While parsed: node ↔ id. */
  #idOf = new Map<Node, string>();
  #nodeOf = new Map<string, Node>();
  /** While at rest: id → position in document order. */
  #positionOf: Map<string, number> | undefined;
  /** The tree's estimated heap (the same tree at every parse). */
  readonly treeBytes: number;
  /** Idle time after which the document rests (shorter for a small tree). */
  readonly restAfterMs: number;
  lastUsed: number;

  constructor(parsed: ParsedXml, clock: Clock) {
    this.#clock = clock;
    this.#text = parsed.text;
    this.#keepCdata = parsed.keepCdata;
    this.#tree = parsed.doc;
    this.#inc = (parsed.doc as Tree)._inc ?? 0;
    let nodes = 0;
    eachInOrder(parsed.doc, () => nodes++);
    this.treeBytes = nodes * NODE_BYTES + parsed.text.length * CHAR_BYTES;
    this.restAfterMs = this.treeBytes < SMALL_TREE_BYTES ? SMALL_REST_AFTER_MS : REST_AFTER_MS;
    this.lastUsed = clock.now();
    this.#enter();
  }

  /** Joins the trees that can rest (newest), letting the oldest rest past the budget. */
  #enter(): void {
    const parsed = parsedOf(this.#clock);
    parsed.docs.add(this);
    parsed.bytes += this.treeBytes;
    for (const d of parsed.docs) {
      if (parsed.bytes <= PARSED_BUDGET_BYTES) break;
      if (d !== this) d.rest();
    }
  }

  /** Leaves the trees that can rest (at rest, pinned or closed). */
  #leave(): void {
    const parsed = PARSED.get(this.#clock);
    if (parsed?.docs.delete(this)) parsed.bytes -= this.treeBytes;
  }

  /** Marks the document used now (so it is the last to rest). */
  touch(): void {
    this.lastUsed = this.#clock.now();
    const parsed = PARSED.get(this.#clock);
    if (parsed?.docs.delete(this)) parsed.docs.add(this);
  }

  /** Whether the tree is in memory (false while at rest). */
  get parsed(): boolean {
    return this.#tree !== undefined;
  }

  /** The tree, parsed again from the text if the document was at rest. */
  get tree(): Document {
    return this.#tree ?? this.#wake();
  }

  /** How many node ids the document has handed out. */
  get idCount(): number {
    return this.#positionOf?.size ?? this.#nodeOf.size;
  }

  /** Every node id handed out. */
  ids(): string[] {
    return [...(this.#positionOf ?? this.#nodeOf).keys()];
  }

  /** The id of `node`, a node of {@linkcode tree} (undefined: none yet). */
  idOf(node: Node): string | undefined {
    return this.#tree ? this.#idOf.get(node) : undefined;
  }

  /** Records `id` for `node`, a node of {@linkcode tree} (just used, so parsed) or one made in it. */
  setId(node: Node, id: string): void {
    this.#idOf.set(node, id);
    this.#nodeOf.set(id, node);
  }

  /** The node an id stands for (the tree parsed again if need be); undefined: not this document's. */
  nodeOf(id: string): Node | undefined {
    if (this.#positionOf && !this.#positionOf.has(id)) return undefined;
    if (!this.#tree) this.#wake();
    return this.#nodeOf.get(id);
  }

  /** Forgets one id. */
  deleteId(id: string): void {
    if (this.#positionOf) return void this.#positionOf.delete(id);
    const node = this.#nodeOf.get(id);
    this.#nodeOf.delete(id);
    if (node) this.#idOf.delete(node);
  }

  /** The document is closed: it is no longer one that can rest. */
  release(): void {
    this.#leave();
  }

  /**
   * Drops the tree, keeping the text and each id's position, unless the document changed or an id
   * names a node outside the tree; then it is pinned (keeps its tree) for good.
   */
  rest(): void {
    const tree = this.#tree;
    if (!tree || this.#pinned) return;
    this.#leave();
    if (((tree as Tree)._inc ?? 0) !== this.#inc) return void (this.#pinned = true);
    const positionOf = new Map<string, number>();
    if (this.#idOf.size > 0) {
      eachInOrder(tree, (node, position) => {
        const id = this.#idOf.get(node);
        if (id !== undefined) positionOf.set(id, position);
      });
      if (positionOf.size !== this.#idOf.size) return void (this.#pinned = true);
    }
    this.#tree = undefined;
    this.#idOf = new Map();
    this.#nodeOf = new Map();
    this.#positionOf = positionOf;
  }

  #wake(): Document {
    const again = parseXml(this.#text, { keepCdata: this.#keepCdata });
    if (!again.ok) throw new Error(`Cannot parse a document again: ${again.error}`);
    const tree = again.value.doc;
    const positions = this.#positionOf ?? new Map<string, number>();
    if (positions.size > 0) {
      const idAt = new Map<number, string>();
      for (const [id, p] of positions) idAt.set(p, id);
      eachInOrder(tree, (node, position) => {
        const id = idAt.get(position);
        if (id !== undefined) {
          this.#idOf.set(node, id);
          this.#nodeOf.set(id, node);
        }
      });
    }
    this.#tree = tree;
    this.#inc = (tree as Tree)._inc ?? 0;
    this.#positionOf = undefined;
    this.lastUsed = this.#clock.now();
    this.#enter();
    return tree;
  }
}
