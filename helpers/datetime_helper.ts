/**
 * @module
 * `datetime_helper`: serves DateTimeHelper.pm, which replaces DateTime (only
 * `DateTime->now->epoch`, helpers contract §3.4). Stateless; wrapped results; the time is the
 * daemon's clock (`ctx.clock`, faked in tests).
 */

import { defineHelper, fn, wrapped } from "./types.ts";

export const datetimeHelper = defineHelper({
  name: "datetime_helper",
  replaces: "DateTimeHelper.pm (DateTime)",
  functions: {
    now: fn([], (_args, ctx) => wrapped({ epoch: Math.floor(ctx.clock.now() / 1000) })),
  },
});
