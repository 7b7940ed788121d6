/**
 * @module
 * `HandleTable<T>`: the per-daemon registry of a helper's stateful handles (DB connections,
 * cipher ids, documents, sessions). Each handle has an idle TTL swept by the janitor, and calls on
 * one handle can be run one at a time with `withLock`.
 */

import type { Clock } from "./clock.ts";
import { descendsFrom, processStartTime } from "./processes.ts";

/** How a table names, expires and closes its handles. */
export interface HandleOptions<T> {
  /** Short name used in ids and log lines, e.g. "ftp". */
  readonly prefix: string;
  /** Idle time after which the janitor closes a handle; 0 keeps handles until closed. */
  readonly idleTtlMs: number;
  /** Releases a handle's resources; errors are logged by the caller of `delete`/`sweep`. */
  readonly dispose?: (value: T, reason: string) => void | Promise<void>;
  /** Id generator; the default is `<prefix>_<epoch>_<8 hex>` (contract §11.4). */
  readonly newId?: () => string;
  /** Told of every id added and removed (the worker host routes and reports lost handles). */
  readonly onChange?: (event: "add" | "delete", id: string) => void;
  /**
   * The most handles one client process (owner PID) may hold open in this table at once
   * (CPAN_BRIDGE_MAX_HANDLES_PER_CLIENT); undefined: no limit. Handles opened without an owner
   * (a request without a client PID) count together, as one more client, so leaving the PID out
   * is no way around the limit.
   */
  readonly perOwnerLimit?: number | undefined;
  /**
   * The handles belong to another handle and close with it (a document's node ids, a connection's
   * statements): the exited-owner sweep leaves them to their parent, and no owner's /proc entry is
   * read when one is added (these tables add the most).
   */
  readonly ownedByHandle?: boolean | undefined;
}

/** The count key of handles opened without an owner (no PID is negative). */
const NO_OWNER = -1;

/** A client process that already holds as many handles of a kind as it may. */
export class HandleLimitError extends Error {
  override name = "HandleLimitError";
}

/** `processStartTime`, or undefined when /proc cannot be read (the owner counts as unseen). */
function startTimeOrUnseen(pid: number): string | undefined {
  try {
    return processStartTime(pid);
  } catch {
    return undefined;
  }
}

/** A handle used by a process other than the one that opened it. */
export class HandleOwnerError extends Error {
  override name = "HandleOwnerError";
}

interface Entry<T> {
  value: T;
  /** The client PID that opened the handle (claimed in request_id); undefined: anyone. */
  owner: number | undefined;
  /** That process's start time when the handle was opened; undefined: not seen in /proc. */
  ownerStart: string | undefined;
  lastUsed: number;
  busy: number;
  /** The last `withLock` call's promise; undefined until the first (most handles never lock). */
  tail: Promise<unknown> | undefined;
}

/** The settled tail every handle starts from (one promise, not one per handle). */
const SETTLED: Promise<unknown> = Promise.resolve();

/** The handles of one kind, for one daemon. */
export class HandleTable<T> {
  readonly prefix: string;
  readonly #opts: HandleOptions<T>;
  readonly #clock: Clock;
  readonly #entries = new Map<string, Entry<T>>();
  /** Open handles per owner PID, kept only when the table has a per-owner limit. */
  readonly #perOwner = new Map<number, number>();
  #evicted = 0;

  constructor(opts: HandleOptions<T>, clock: Clock) {
    this.prefix = opts.prefix;
    this.#opts = opts;
    this.#clock = clock;
  }

  /** One handle of `owner` fewer in the per-owner count. */
  #uncount(owner: number): void {
    const left = (this.#perOwner.get(owner) ?? 0) - 1;
    if (left > 0) this.#perOwner.set(owner, left);
    else this.#perOwner.delete(owner);
  }

  #newId(): string {
    if (this.#opts.newId) return this.#opts.newId();
    const hex = crypto.getRandomValues(new Uint8Array(4));
    const tail = Array.from(hex, (b) => b.toString(16).padStart(2, "0")).join("");
    return `${this.prefix}_${Math.floor(this.#clock.now() / 1000)}_${tail}`;
  }

  /** Stores a value and returns its new id. `owner`: the client PID that may use it. */
  add(value: T, id: string = this.#newId(), owner?: number): string {
    const limit = this.#opts.perOwnerLimit;
    const replaced = this.#entries.get(id);
    if (limit !== undefined) {
      const key = owner ?? NO_OWNER;
      const held = (this.#perOwner.get(key) ?? 0) - (replaced && replaced.owner === owner ? 1 : 0);
      if (held >= limit) {
        const who = owner === undefined
          ? "requests without a client PID (request_id)"
          : `client process PID ${owner}`;
        throw new HandleLimitError(
          `Too many open ${this.prefix} handles for ${who}: ${held} are open, the most ${
            owner === undefined ? "they may hold together" : "one process may hold"
          } (CPAN_BRIDGE_MAX_HANDLES_PER_CLIENT); close the ones it no longer needs`,
        );
      }
      if (replaced) this.#uncount(replaced.owner ?? NO_OWNER);
      this.#perOwner.set(key, (this.#perOwner.get(key) ?? 0) + 1);
    }
    this.#entries.set(id, {
      value,
      owner,
      ownerStart: owner === undefined || this.#opts.ownedByHandle
        ? undefined
        : startTimeOrUnseen(owner),
      lastUsed: this.#clock.now(),
      busy: 0,
      tail: undefined,
    });
    this.#opts.onChange?.("add", id);
    return id;
  }

  /** The PID that owns a handle (undefined: unknown id, or no owner). */
  ownerOf(id: unknown): number | undefined {
    return typeof id === "string" ? this.#entries.get(id)?.owner : undefined;
  }

  /**
   * This table as one client sees it: handles it adds are its own, and using another client's
   * handle throws {@linkcode HandleOwnerError} (the opener's descendants, e.g. forked children,
   * may use it); `ids()` lists only its own.
   */
  viewFor(pid: number | undefined): HandleTable<T> {
    const check = (id: unknown) => {
      if (typeof id !== "string") return;
      const e = this.#entries.get(id);
      if (e && e.owner !== undefined && e.owner !== pid && !descendsFrom(pid, e.owner)) {
        throw new HandleOwnerError(
          `Cannot use ${this.prefix} handle ${id}: it belongs to another client process (PID ${e.owner}); handles are usable only by the process that opened them`,
        );
      }
    };
    return new Proxy(this, {
      get(target, prop) {
        switch (prop) {
          case "add":
            return (value: T, id?: string) => target.add(value, id, pid);
          case "get":
          case "peek":
          case "has":
            return (id: string) => {
              check(id);
              return prop === "get"
                ? target.get(id)
                : prop === "peek"
                ? target.peek(id)
                : target.has(id);
            };
          case "withLock":
          case "delete":
            return async (id: string, ...rest: unknown[]) => {
              check(id);
              // deno-lint-ignore no-explicit-any
              return await (target as any)[prop](id, ...rest);
            };
          case "ids":
            return () => [...target.#visible(pid)].map(([id]) => id);
          case "values":
            return () => [...target.#visible(pid)].map(([, e]) => e.value);
        }
        const v = Reflect.get(target, prop, target);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
  }

  /** The entries a client may list: its own, and those opened without an owner. */
  *#visible(pid: number | undefined): Iterable<[string, Entry<T>]> {
    for (const kv of this.#entries) {
      const o = kv[1].owner;
      if (o === undefined || o === pid) yield kv;
    }
  }

  /** The value for an id, marking it used now; undefined when unknown or expired. */
  get(id: unknown): T | undefined {
    if (typeof id !== "string") return undefined;
    const e = this.#entries.get(id);
    if (!e) return undefined;
    e.lastUsed = this.#clock.now();
    return e.value;
  }

  /**
   * The value for an id without marking it used (statistics and diagnostics, which must not keep
   * a handle from its idle sweep); undefined when unknown.
   */
  peek(id: unknown): T | undefined {
    return typeof id === "string" ? this.#entries.get(id)?.value : undefined;
  }

  has(id: unknown): boolean {
    return typeof id === "string" && this.#entries.has(id);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** How long a handle may stay unused before the idle sweep closes it (0: never). */
  get idleTtlMs(): number {
    return this.#opts.idleTtlMs;
  }

  /** Handles closed by the idle sweep since the table was made. */
  get evicted(): number {
    return this.#evicted;
  }

  /** Every id, in the order the handles were added (a client's view: its own and unowned). */
  ids(): string[] {
    return [...this.#entries.keys()];
  }

  /** Every value, in the order added, without marking any used (a client's view: as `ids()`). */
  values(): T[] {
    return [...this.#entries.values()].map((e) => e.value);
  }

  /**
   * Runs `fn` after every earlier `withLock` call on the same id has settled, so a sequential
   * protocol (FTP, SMTP, one DB connection) never sees two commands at once. The handle counts
   * as in use, and is not swept, while `fn` runs.
   */
  async withLock<R>(id: string, fn: (value: T) => Promise<R> | R): Promise<R> {
    const e = this.#entries.get(id);
    if (!e) throw new RangeError(`Cannot use ${this.prefix} handle ${id}: unknown or closed`);
    e.busy++;
    const prev = e.tail ?? SETTLED;
    let release!: () => void;
    e.tail = new Promise<void>((r) => (release = r));
    try {
      await prev.catch(() => {});
      e.lastUsed = this.#clock.now();
      return await fn(e.value);
    } finally {
      e.busy--;
      e.lastUsed = this.#clock.now();
      release();
    }
  }

  /** Removes a handle and disposes of it. Returns false when the id was unknown. */
  async delete(id: string, reason = "closed"): Promise<boolean> {
    const e = this.#entries.get(id);
    if (!e) return false;
    this.#entries.delete(id);
    if (this.#opts.perOwnerLimit !== undefined) this.#uncount(e.owner ?? NO_OWNER);
    this.#opts.onChange?.("delete", id);
    await this.#opts.dispose?.(e.value, reason);
    return true;
  }

  /** Closes every handle idle for longer than the TTL. Returns the ids closed. */
  async sweep(): Promise<string[]> {
    if (this.#opts.idleTtlMs <= 0) return [];
    const now = this.#clock.now();
    const closed: string[] = [];
    for (const [id, e] of this.#entries) {
      if (e.busy === 0 && now - e.lastUsed > this.#opts.idleTtlMs) {
        closed.push(id);
        this.#evicted++;
        await this.delete(id, `idle ${Math.round((now - e.lastUsed) / 1000)} s`).catch(() => {});
      }
    }
    return closed;
  }

  /**
   * Closes every handle whose owner process has exited, as the objects of a Perl script end with
   * it (a DBI handle's DESTROY rolls back and disconnects). Only owners seen in /proc when the
   * handle was opened count: a claimed PID the daemon cannot see (another PID namespace) is never
   * taken for exited; a PID now held by a later process (another start time) is. Busy handles
   * wait for the next sweep. Returns the ids closed with their owner's PID.
   */
  async sweepExited(): Promise<{ id: string; pid: number }[]> {
    const alive = new Map<number, boolean>();
    const closed: { id: string; pid: number }[] = [];
    for (const [id, e] of this.#entries) {
      if (e.owner === undefined || e.ownerStart === undefined || e.busy > 0) continue;
      let same = alive.get(e.owner);
      if (same === undefined) {
        let start: string | undefined;
        try {
          start = processStartTime(e.owner);
        } catch {
          start = e.ownerStart; // /proc unreadable now: never taken for exited
        }
        same = start === e.ownerStart;
        alive.set(e.owner, same);
      }
      if (same) continue;
      closed.push({ id, pid: e.owner });
      this.#evicted++;
      await this.delete(id, `owner PID ${e.owner} exited`).catch(() => {});
    }
    return closed;
  }

  /** Closes every handle (daemon shutdown). */
  async closeAll(reason = "daemon shutdown"): Promise<void> {
    for (const id of [...this.#entries.keys()]) await this.delete(id, reason).catch(() => {});
  }
}
