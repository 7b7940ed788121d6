/**
 * @module
 * `cpan-bridge replay`: sends the requests of a capture file to cpan-bridge and reports, per
 * module.function, how many replies are identical, equivalent after normalisation, or
 * different (with the first differences). Calls with side effects are skipped unless `all`:
 * each helper's registry entry names its read-only functions, and the built-ins' are below.
 */

import { redact } from "../../log/format.ts";
import { helperEntry } from "../../../helpers/registry.ts";
import { callDaemon } from "../bridge_client.ts";
import { readCapture } from "./capture_file.ts";
import { compareReplies, type Verdict } from "./compare.ts";

/**
 * Built-ins worth replaying: they change nothing and answer the same on any daemon. The `system.*`
 * and `test.stats`/`test.health` reports describe the daemon's own state, so they are skipped.
 */
const READ_ONLY_BUILTINS: Readonly<Record<string, readonly string[]>> = {
  test: ["ping", "echo", "check_module"],
  system: [],
};

/** True when `module.function` changes nothing, as its registry entry says. */
export function isReadOnly(module: string, fn: string): boolean {
  if (READ_ONLY_BUILTINS[module]) return READ_ONLY_BUILTINS[module]!.includes(fn);
  return helperEntry(module)?.readOnly.includes(fn) ?? false;
}

/** Counts for one module.function. */
export interface FunctionTally {
  identical: number;
  equivalent: number;
  different: number;
  skipped: number;
  /** The first few differences. */
  examples: { path: string; was: string; now: string }[];
}

/** What a replay found. */
export interface ReplayResult {
  readonly byFunction: Map<string, FunctionTally>;
  readonly badLines: number;
  readonly unreplayable: number;
}

/** Replays `path` against the daemon at `socket`. */
export async function replay(
  path: string,
  socket: string,
  opts: { all?: boolean; timeoutMs?: number; examples?: number } = {},
): Promise<ReplayResult> {
  const { records, badLines } = await readCapture(path);
  const byFunction = new Map<string, FunctionTally>();
  let unreplayable = 0;
  for (const r of records) {
    const req = r.request as Record<string, unknown> | string;
    if (r.truncated || typeof req !== "object" || req === null || Array.isArray(req)) {
      unreplayable++;
      continue;
    }
    const name = `${String(req.module)}.${String(req.function)}`;
    const t = byFunction.get(name) ??
      { identical: 0, equivalent: 0, different: 0, skipped: 0, examples: [] };
    byFunction.set(name, t);
    if (!opts.all && !isReadOnly(String(req.module), String(req.function))) {
      t.skipped++;
      continue;
    }
    let fresh: unknown;
    try {
      fresh = redact(
        await callDaemon(socket, req, opts.timeoutMs ?? 60_000),
        Number.MAX_SAFE_INTEGER,
      );
    } catch (err) {
      fresh = { unreachable: (err as Error).message };
    }
    const v: Verdict = compareReplies(r.reply, fresh);
    t[v.kind]++;
    if (v.kind === "different" && t.examples.length < (opts.examples ?? 3)) {
      t.examples.push({ path: v.path, was: v.was, now: v.now });
    }
  }
  return { byFunction, badLines, unreplayable };
}

/** The per-function table and the first differences, for people. */
export function formatReplay(r: ReplayResult): string {
  const rows = [...r.byFunction.entries()].sort(([a], [b]) => a.localeCompare(b));
  const w = Math.max(17, ...rows.map(([n]) => n.length));
  const head = `${"module.function".padEnd(w)}  identical  equivalent  different  skipped`;
  const lines = [head, "-".repeat(head.length)];
  for (const [n, t] of rows) {
    lines.push(
      `${n.padEnd(w)}  ${String(t.identical).padStart(9)}  ${String(t.equivalent).padStart(10)}  ${
        String(t.different).padStart(9)
      }  ${String(t.skipped).padStart(7)}`,
    );
  }
  for (const [n, t] of rows) {
    for (const e of t.examples) {
      lines.push(`\n${n} differs at ${e.path}:\n  was ${e.was}\n  now ${e.now}`);
    }
  }
  if (r.unreplayable) {
    lines.push(`\n${r.unreplayable} captured exchanges were truncated or not JSON`);
  }
  if (r.badLines) lines.push(`${r.badLines} lines of the capture file did not parse`);
  return lines.join("\n");
}
