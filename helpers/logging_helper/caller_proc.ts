/**
 * @module
 * What the daemon reads about a caller process in /proc: whether it still runs (and is the same
 * process: its start time), and its uids. Deno 2 opens /proc/<pid> only with --allow-all.
 */

import { processStartTime } from "../types.ts";

/** The caller's start time, or undefined when it has exited (or is a zombie); see the SDK. */
// deno-lint-ignore require-await -- callers await it and catch its rejection
export async function startTime(pid: number): Promise<string | undefined> {
  return processStartTime(pid);
}

/**
 * The real and effective uids of a process (`/proc/<pid>/status`; its /proc directory's owner is
 * root for a process that changed uid, so it cannot be used).
 */
export async function processUids(pid: number): Promise<number[]> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const m = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status);
  if (!m) throw new Error(`Cannot read the uid of PID ${pid}`);
  return [Number(m[1]), Number(m[2])];
}
