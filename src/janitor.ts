/**
 * @module
 * `Janitor`: the daemon's one housekeeping timer (as pgbouncer's janitor). Each task has its own
 * period; one timer ticks, and each tick starts the tasks that are due, in the order they were
 * given. A task that throws or rejects is logged and runs again at its next period; it never
 * stops the others. An asynchronous task still running when it is due again is not started a
 * second time (a slow handle sweep never piles up). Time comes from a `Clock`, and `tick()` can be
 * called directly, so tests drive the janitor with a fake clock and no timer.
 */

import type { Clock } from "./sdk/clock.ts";

/** One piece of housekeeping. */
export interface JanitorTask {
  /** Shown in the log line of a failure. */
  readonly name: string;
  /** Milliseconds between runs; the first run is one period after the start. */
  readonly periodMs: number;
  run(): void | Promise<void>;
}

/** Where the janitor reports a failed task. */
export type JanitorLog = (message: string) => void;

/** Shortest and longest tick of the timer (the tick is the shortest period, within these). */
const MIN_TICK_MS = 50;
const MAX_TICK_MS = 1000;

interface Slot {
  readonly task: JanitorTask;
  due: number;
  running: Promise<void> | undefined;
}

export class Janitor {
  readonly #slots: Slot[];
  readonly #clock: Clock;
  readonly #log: JanitorLog;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(tasks: readonly JanitorTask[], clock: Clock, log: JanitorLog) {
    const now = clock.now();
    this.#slots = tasks.map((task) => ({ task, due: now + task.periodMs, running: undefined }));
    this.#clock = clock;
    this.#log = log;
  }

  /** The timer's interval: the shortest period, kept between 50 ms and 1 s. */
  get tickMs(): number {
    const shortest = Math.min(MAX_TICK_MS, ...this.#slots.map((s) => s.task.periodMs));
    return Math.max(MIN_TICK_MS, shortest);
  }

  /** Starts the timer (idempotent). */
  start(): void {
    this.#timer ??= setInterval(() => void this.tick(), this.tickMs);
  }

  /**
   * Starts every task that is due and not still running. Resolves when the tasks started by this
   * tick have settled; never rejects.
   */
  tick(): Promise<void> {
    const now = this.#clock.now();
    const started: Promise<void>[] = [];
    for (const slot of this.#slots) {
      // The wall clock stepped back: wait at most one period, not the length of the step.
      if (slot.due - now > slot.task.periodMs) slot.due = now + slot.task.periodMs;
      if (now < slot.due || slot.running) continue;
      // The next run is a whole period after this one: a late tick does not make runs bunch up.
      slot.due = now + slot.task.periodMs;
      const p = this.#run(slot);
      if (p) started.push(p);
    }
    return Promise.all(started).then(() => {});
  }

  #run(slot: Slot): Promise<void> | undefined {
    let result: void | Promise<void>;
    try {
      result = slot.task.run();
    } catch (err) {
      this.#failed(slot.task, err);
      return undefined;
    }
    if (!(result instanceof Promise)) return undefined;
    const p = result.then(
      () => {},
      (err) => this.#failed(slot.task, err),
    ).finally(() => (slot.running = undefined));
    slot.running = p;
    return p;
  }

  #failed(task: JanitorTask, err: unknown): void {
    this.#log(`Background task ${task.name} failed: ${err instanceof Error ? err.message : err}`);
  }

  /** Stops the timer. A task still running is not waited for (a stuck sweep never holds up shutdown). */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
