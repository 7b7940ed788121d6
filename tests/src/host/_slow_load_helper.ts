/**
 * @module
 * A test-only helper whose module takes `SLOW_LOAD_MS` to load (a top-level wait), so a helper
 * Worker loading it stays "loading" that long. Loaded by URL (`WorkerHost` `extraHelperModules`).
 */

import { defineHelper, fn } from "../../../helpers/types.ts";

export const SLOW_LOAD_MS = 1500;

await new Promise((resolve) => setTimeout(resolve, SLOW_LOAD_MS));

/** `echo` calls this module has run. */
let echoes = 0;

export default defineHelper({
  name: "slow_load_helper",
  replaces: "nothing (tests)",
  functions: {
    /** Echoes `value`. */
    echo: fn(["value"], (a) => {
      echoes++;
      return { success: true, value: a.value ?? null };
    }),
    /** How many `echo` calls ran in this worker. */
    echoes: fn([], () => ({ success: true, echoes })),
  },
});
