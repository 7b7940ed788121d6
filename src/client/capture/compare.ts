/**
 * @module
 * How `cpan-bridge replay` compares a captured reply with cpan-bridge's: identical (the same
 * JSON), equivalent (the same after normalising what differs between any two runs: times,
 * generated ids, uptime, runtime and daemon facts, key order), or different, with the first
 * difference as a path and both values.
 */

/** Verdict for one replayed request. */
export type Verdict =
  | { readonly kind: "identical" }
  | { readonly kind: "equivalent" }
  | {
    readonly kind: "different";
    readonly path: string;
    readonly was: string;
    readonly now: string;
  };

/** Keys whose values differ between runs by nature. */
const VOLATILE_KEY =
  /^(timestamp|time|ts|epoch|uptime|uptime_seconds|uptime_formatted|request_id|connection_id|statement_id|session_id|handle|handle_id|lock_id|id|daemon_info|python_version|python_executable|platform|working_directory|execution_info|stats|debug_info|traceback|duration|elapsed|.*_time|.*_ms|.*_seconds)$/;
const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
const ISO_TIME = /\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?\b/g;

/** `v` with volatile values replaced and keys sorted. */
export function normalise(v: unknown, depth = 0): unknown {
  if (depth > 64) return "[deep]";
  if (typeof v === "string") return v.replace(UUID, "<uuid>").replace(ISO_TIME, "<time>");
  if (Array.isArray(v)) return v.map((x) => normalise(x, depth + 1));
  if (v === null || typeof v !== "object") return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) {
    out[k] = VOLATILE_KEY.test(k)
      ? "<volatile>"
      : normalise((v as Record<string, unknown>)[k], depth + 1);
  }
  return out;
}

function show(v: unknown): string {
  const s = v === undefined ? "(absent)" : JSON.stringify(v);
  return s.length > 200 ? `${s.slice(0, 197)}...` : s;
}

/** The first place where `a` and `b` differ, as a JSON path, or undefined. */
export function firstDifference(
  a: unknown,
  b: unknown,
  path = "$",
): { path: string; was: string; now: string } | undefined {
  if (a === b) return undefined;
  const bothObjects = a !== null && b !== null && typeof a === "object" && typeof b === "object";
  if (!bothObjects || Array.isArray(a) !== Array.isArray(b)) {
    return { path, was: show(a), now: show(b) };
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  const ao = a as Record<string, unknown>, bo = b as Record<string, unknown>;
  for (const k of [...new Set([...Object.keys(ao), ...Object.keys(bo)])].sort()) {
    const d = firstDifference(ao[k], bo[k], `${path}.${k}`);
    if (d) return d;
  }
  return undefined;
}

/** Compares a captured reply with a fresh one. */
export function compareReplies(captured: unknown, fresh: unknown): Verdict {
  if (JSON.stringify(captured) === JSON.stringify(fresh)) return { kind: "identical" };
  const d = firstDifference(normalise(captured), normalise(fresh));
  return d ? { kind: "different", ...d } : { kind: "equivalent" };
}
