/**
 * @module
 * Shared parts of the logging_helper tests: calling a helper function directly, and real caller
 * processes whose stdout is a shell redirection (the helper reaches it through /proc).
 */

import { loggingHelper } from "../../../helpers/logging_helper/mod.ts";
import type { CallContext } from "../../../helpers/types.ts";
import { waitFor } from "../../_support/wait.ts";

// deno-lint-ignore no-explicit-any
export type R = any;

/** Calls a logging_helper function directly. */
export async function call(
  name: string,
  args: Record<string, unknown>,
  ctx: CallContext,
): Promise<R> {
  const f = loggingHelper.functions[name];
  if (!f) throw new Error(`logging_helper has no function ${name}`);
  return await f.run(args, ctx);
}

/** A real process whose stdout is `redirect` (a shell redirection), until it is killed. */
export function callerWith(redirect: string): Deno.ChildProcess {
  return new Deno.Command("sh", { args: ["-c", `exec sleep 30 ${redirect}`] }).spawn();
}

/** Waits until the shell of callerWith() has redirected its stdout to `path`. */
export async function redirected(p: Deno.ChildProcess, path: string): Promise<void> {
  await waitFor(async () => (await Deno.readLink(`/proc/${p.pid}/fd/1`).catch(() => "")) === path, {
    deadlineMs: 5000,
    what: `the shell's stdout redirected to ${path}`,
  });
}

/** A caller whose stdout is `> path`: it prints `own\n` when a line arrives on its stdin, then exits. */
export function printsOnCue(path: string): { p: Deno.ChildProcess; cue: () => Promise<void> } {
  const p = new Deno.Command("sh", {
    args: ["-c", `exec perl -e '$| = 1; <STDIN>; print "own\\n"' > ${path}`],
    stdin: "piped",
  }).spawn();
  const w = p.stdin.getWriter();
  return { p, cue: async () => (await w.write(new TextEncoder().encode("go\n")), await w.close()) };
}
