/**
 * @module
 * `IdleDeadline`: the idle timeout (`CPAN_BRIDGE_READ_TIMEOUT`) and total deadline
 * (`CPAN_BRIDGE_REQUEST_DEADLINE`) of one request's reads (wire/framing.ts races each read against
 * `expired`). Every pending deadline is watched by one shared timer.
 */

/**
 * The idle deadlines of every read in progress, watched by one shared timer armed for the
 * earliest of them: a request costs no timer of its own (a setTimeout/clearTimeout pair costs
 * ~3.7 µs, more than the rest of the read), only a set entry and the promise its read races. The
 * timer is re-armed only when a deadline earlier than its own arrives (e.g. a refusal's short
 * one) and when it fires; with no read in progress it is unref'd, so it never holds a test or a
 * stopping process open, and it ends at its next firing.
 */
const pendingIdle = new Set<IdleDeadline>();
/** The longest delay `setTimeout` takes (2^31 - 1 ms, 24.8 days); above it, it fires at once. */
export const MAX_TIMER_MS = 0x7fffffff;

let wakeTimer: ReturnType<typeof setTimeout> | undefined;
/** performance.now() at which wakeTimer fires (Infinity: none armed). */
let wakeAt = Infinity;

function watch(d: IdleDeadline, due: number): void {
  pendingIdle.add(d);
  if (wakeTimer !== undefined && wakeAt <= due) {
    if (pendingIdle.size === 1) Deno.refTimer(wakeTimer);
    return;
  }
  armWake(due);
}

function unwatch(d: IdleDeadline): void {
  if (!pendingIdle.delete(d)) return;
  if (pendingIdle.size === 0 && wakeTimer !== undefined) Deno.unrefTimer(wakeTimer);
}

function armWake(at: number): void {
  if (wakeTimer !== undefined) clearTimeout(wakeTimer);
  wakeAt = at;
  // Capped at setTimeout's 32-bit maximum (a larger delay fires at once); checkIdle re-arms.
  wakeTimer = setTimeout(
    checkIdle,
    Math.min(MAX_TIMER_MS, Math.max(0, Math.ceil(at - performance.now()))),
  );
}

function checkIdle(): void {
  wakeTimer = undefined;
  wakeAt = Infinity;
  const now = performance.now();
  let next = Infinity;
  for (const d of pendingIdle) next = Math.min(next, d.check(now));
  if (next < Infinity) armWake(next);
}

/** The idle deadline (and the total deadline) of one request's reads. */
export class IdleDeadline {
  readonly expired: Promise<"timeout" | "deadline">;
  #last: number;
  #resolve!: (v: "timeout" | "deadline") => void;
  readonly #ms: number;
  /** performance.now() at which the whole read must be over (Infinity: no total deadline). */
  readonly #hardAt: number;

  constructor(ms: number, totalMs = Infinity) {
    this.#ms = ms;
    this.#last = performance.now();
    this.#hardAt = this.#last + totalMs;
    this.expired = new Promise((r) => (this.#resolve = r));
    watch(this, Math.min(this.#last + ms, this.#hardAt));
  }

  /**
   * For the shared timer: resolves `expired` if a deadline has passed (the total one first) and
   * returns Infinity, else returns when this deadline falls due now.
   */
  check(now: number): number {
    if (now >= this.#hardAt) return this.#expire("deadline");
    if (now - this.#last >= this.#ms) return this.#expire("timeout");
    return Math.min(this.#last + this.#ms, this.#hardAt);
  }

  #expire(why: "timeout" | "deadline"): number {
    unwatch(this);
    this.#resolve(why);
    return Infinity;
  }

  /** Records activity: the deadline moves to now + ms. */
  touch(): void {
    this.#last = performance.now();
  }

  clear(): void {
    unwatch(this);
  }
}
