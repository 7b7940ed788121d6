/**
 * @module
 * `datetime_helper`: serves DateTimeHelper.pm, which replaces DateTime (only
 * `DateTime->now->epoch`, helpers contract §3.4). Stateless; wrapped results.
 */

import type { Clock } from "./types.ts";
import { systemClock } from "./types.ts";
import { defineHelper, fn, wrapped } from "./types.ts";

/** Builds the helper on a clock (tests pass a fake one). */
export function createDatetimeHelper(clock: Clock = systemClock) {
  return defineHelper({
    name: "datetime_helper",
    replaces: "DateTimeHelper.pm (DateTime)",
    functions: {
      now: fn([], () => wrapped({ epoch: Math.floor(clock.now() / 1000) })),
    },
  });
}

export const datetimeHelper = createDatetimeHelper();
