/**
 * @module
 * The helper functions the daemon may run on its socket thread instead of a helper Worker, and
 * the size bound on their requests. The Worker hop (two thread wake-ups and two message events,
 * 60–80 µs of CPU per side) costs several times what these functions do (`datetime_helper.now`:
 * 15 µs), so for them the hop is most of a call's cost (docs/performance.md).
 *
 * A function qualifies only when it is pure and synchronous in effect (no I/O, no handles, no
 * waiting), bounded in its work by the size of its arguments, and its module loads nothing heavy:
 * its code is loaded on the socket thread at its first inline call. `WorkerPool` runs it inline
 * only when its params are under {@linkcode INLINE_MAX_CHARS}, so nothing large ever runs on the
 * socket thread; a larger call goes to the Worker as any other.
 *
 * Inline calls get no `CPAN_BRIDGE_HELPER_TIMEOUT` timer (call_timeout.ts): a function that never
 * waits finishes within the microtasks of its call, before any timer could fire, and one that
 * spun would block the thread so that no timer could interrupt it either (without the timer:
 * daemon CPU per sequential call 170/203 -> 150/157 µs in a compare.sh A/B of 2 rounds on a busy
 * machine). This is why a function that waits for anything (I/O, a timer, a lock) must never be
 * listed here. Not listed, though pure:
 * `xml_helper.escape_xml`/`unescape_xml`, whose module brings the XML parser (`@xmldom/xmldom`)
 * onto the socket thread at load.
 */

/** Wire module (aliases included) → functions that may run inline. */
export const INLINE_FUNCTIONS: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ["datetime_helper", new Set(["now"])],
]);

/** Params larger than this (JSON characters, counted roughly) always go to a Worker. */
export const INLINE_MAX_CHARS = 4096;

/**
 * True when `params` is at most `max` JSON characters, counted roughly (strings by length,
 * other scalars as up to 24): the walk stops as soon as the budget is spent, so it costs at most
 * `max` steps however large the value.
 */
export function paramsWithin(params: unknown, max: number): boolean {
  let left = max;
  const walk = (v: unknown): boolean => {
    if (typeof v === "string") return (left -= v.length + 3) >= 0;
    if (v === null || typeof v !== "object") return (left -= 24) >= 0;
    if ((left -= 2) < 0) return false;
    if (Array.isArray(v)) {
      for (const x of v) if (!walk(x)) return false;
      return true;
    }
    for (const k in v as Record<string, unknown>) {
      if ((left -= k.length + 4) < 0) return false;
      if (!walk((v as Record<string, unknown>)[k])) return false;
    }
    return true;
  };
  return walk(params);
}
