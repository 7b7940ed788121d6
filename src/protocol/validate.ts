/**
 * @module
 * The validation pipeline of contract §5.1, in its order and with its texts: structure, schema,
 * security checks, limits, whitelist. Failures become `Request validation failed: <e1>; <e2>`.
 *
 * DEFECT-FIX W3/V2 (deliberate deviations, see README "Compatibility"):
 * - strings are never stripped of control characters or truncated; a string, array or nesting
 *   over its limit is refused with an error naming the limit;
 * - injection patterns are looked for in each string value and logged as security events, but
 *   never reject a request (`region_code = 1`, `../`, `C:\dir\file`, `${VAR}` are ordinary data).
 */

import type { Config } from "../config.ts";
import { validationFailed } from "../errors.ts";
import { findInjection, type Peer, type SecurityMonitor } from "../ops/security.ts";

/** A request that passed validation. */
export interface BridgeRequest {
  readonly module: string;
  readonly function: string;
  readonly params: unknown;
  /** False when the request had no `params` key (the helper then gets no arguments). */
  readonly hasParams: boolean;
  readonly requestId: string;
  /** True for the client's liveness ping: `test.ping` without `request_id` (contract §12 M3). */
  readonly livenessPing: boolean;
  readonly perlCaller?: string | undefined;
}

const ALLOWED_KEYS = [
  "module",
  "function",
  "params",
  "timestamp",
  "request_id",
  "perl_caller",
  "client_version",
];
const NAME = /^[a-zA-Z][a-zA-Z0-9_]*$/;
const MAX_LEN: Record<string, number> = {
  module: 50,
  function: 100,
  request_id: 100,
  perl_caller: 200,
  client_version: 50,
};

const DANGEROUS_WORDS = [
  "eval",
  "exec",
  "compile",
  "__import__",
  "open",
  "file",
  "subprocess",
  "os",
  "sys",
  "globals",
  "locals",
  "vars",
  "input",
  "raw_input",
  "execfile",
  "reload",
];

/** Phrases logged as `suspicious_content` (per string value; never blocking). */
const SUSPICIOUS = [
  "DROP TABLE",
  "DELETE FROM",
  "UNION SELECT",
  "OR 1=1",
  "AND 1=1",
  "' OR '",
  "XP_CMDSHELL",
  "ALTER TABLE",
];

/** Characters of each string value looked at for injection patterns and SQL phrases. */
const SCAN_LIMIT = 65_536;

/**
 * Characters looked at per request, all strings together: past it the rest of the request is
 * not scanned (the scan is linear, so this bounds the socket thread's work to a few ms).
 */
const SCAN_BUDGET = 1_048_576;

/** What validation needs from the daemon. */
export interface ValidationDeps {
  readonly config: Config;
  readonly whitelist: ReadonlyMap<string, ReadonlySet<string>>;
  readonly security: SecurityMonitor;
  readonly peer: Peer;
}

/** Python type name of a JSON value, for contract §3.1's `'list' object has no attribute 'get'`. */
export function pyTypeName(v: unknown): string {
  if (Array.isArray(v)) return "list";
  if (v === null) return "NoneType";
  if (typeof v === "string") return "str";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float";
  return "dict";
}

/** Longest key shown in a path, and longest path, in characters (error texts echo them). */
const MAX_KEY_SHOWN = 64;
const MAX_PATH = 512;

/** `path.key`, with a long key cut and a path past MAX_PATH no longer growing. */
function childPath(path: string, key: string | number): string {
  if (path.length >= MAX_PATH) return path.endsWith("…") ? path : `${path}…`;
  if (typeof key === "number") return `${path}[${key}]`;
  const k = key.length > MAX_KEY_SHOWN ? `${key.slice(0, MAX_KEY_SHOWN)}…(${key.length})` : key;
  return `${path}.${k}`;
}

interface Walk {
  strings: Array<[string, string]>; // [path, value]
  limitErrors: string[];
}

/** Walks params iteratively: collects strings and enforces length and depth limits. */
function walkParams(params: unknown, config: Config): Walk {
  const out: Walk = { strings: [], limitErrors: [] };
  const stack: Array<[unknown, string, number]> = [[params, "params", 0]];
  let deepReported = false;
  while (stack.length > 0 && out.limitErrors.length < 10) {
    const [v, path, depth] = stack.pop()!;
    if (typeof v === "string") {
      if (v.length > config.maxStringLength) {
        out.limitErrors.push(
          `String too long at ${path}: ${v.length} > ${config.maxStringLength} (CPAN_BRIDGE_MAX_STRING_LENGTH)`,
        );
      } else out.strings.push([path, v]);
      continue;
    }
    if (v === null || typeof v !== "object") continue;
    if (depth >= config.maxObjectDepth) {
      if (!deepReported) {
        out.limitErrors.push(
          `Nesting too deep at ${path}: more than ${config.maxObjectDepth} levels (CPAN_BRIDGE_MAX_OBJECT_DEPTH)`,
        );
        deepReported = true;
      }
      continue;
    }
    if (Array.isArray(v)) {
      if (v.length > config.maxArrayLength) {
        out.limitErrors.push(
          `Array too long at ${path}: ${v.length} > ${config.maxArrayLength} (CPAN_BRIDGE_MAX_ARRAY_LENGTH)`,
        );
        continue;
      }
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], childPath(path, i), depth + 1]);
    } else {
      const entries = Object.entries(v as Record<string, unknown>);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, x] = entries[i]!;
        stack.push([x, childPath(path, k), depth + 1]);
      }
    }
  }
  return out;
}

/**
 * Validates a parsed request object.
 *
 * @throws {WireError} ValueError `Request validation failed: …`
 */
export function validateRequest(raw: Record<string, unknown>, deps: ValidationDeps): BridgeRequest {
  const { config, security, whitelist } = deps;
  let peer = deps.peer;
  const errors: string[] = [];
  const sent = typeof raw.request_id === "string" ? raw.request_id : undefined;
  const requestId = sent ?? crypto.randomUUID();
  const evReq = { request_id: requestId, module: raw.module, function: raw.function };
  // Deno exposes no peer credentials (SO_PEERCRED); the PID the client puts in request_id is
  // logged as what it is: a claim. (A made-up UUID claims none: not looked at.)
  const claimed = sent === undefined ? null : /^\d+_(\d+)_\d+$/.exec(sent);
  // Copied field by field: the peer may be a tracked connection whose client id is a getter.
  if (claimed && peer.pid === undefined) {
    const pid = Number(claimed[1]);
    peer = peer.uid === undefined
      ? { client: peer.client, pid }
      : { client: peer.client, uid: peer.uid, pid };
  }
  const fail = (): never => {
    security.validationFailed(peer, requestId, errors);
    throw validationFailed(errors);
  };

  // 2. Structure.
  if (!("module" in raw)) errors.push("Missing required field: module");
  if (!("function" in raw)) errors.push("Missing required field: function");
  const keyCount = Object.keys(raw).length;
  if (keyCount > config.maxParamCount) {
    errors.push(`Too many parameters: ${keyCount} (max: ${config.maxParamCount})`);
  }
  if (errors.length) fail();

  // 3. Schema.
  for (const key of Object.keys(raw)) {
    if (!ALLOWED_KEYS.includes(key)) {
      errors.push(`Additional property not allowed: ${childPath("", key).slice(1)}`);
    }
  }
  for (const field of ["module", "function", "request_id", "perl_caller", "client_version"]) {
    if (!(field in raw)) continue;
    const v = raw[field];
    if (typeof v !== "string") {
      errors.push(`Expected string at .${field}`);
      continue;
    }
    const builtinModule = field === "module" && (v === "test" || v === "system");
    if (builtinModule) continue;
    if (v.length > MAX_LEN[field]!) {
      errors.push(`String too long at .${field}: ${v.length} > ${MAX_LEN[field]}`);
    } else if ((field === "module" || field === "function") && !NAME.test(v)) {
      errors.push(`String pattern mismatch at .${field}`);
    }
  }
  if (errors.length) fail();
  const module = raw.module as string;
  const fn = raw.function as string;

  // 4. Security checks: names of modules we do not serve, and patterns in values (log only).
  if (!whitelist.has(module)) {
    const lm = module.toLowerCase(), lf = fn.toLowerCase();
    for (const w of DANGEROUS_WORDS) {
      if (lm.includes(w) || lf.includes(w)) {
        errors.push(`Dangerous function/module name detected: ${w}`);
        security.record("dangerous_function", "error", peer, evReq, { dangerous_pattern: w });
      }
    }
    if (errors.length) fail();
  }
  const walk = walkParams(raw.params, config);
  // Liveness pings and system.* are never scanned: nothing they carry reaches a helper, and
  // their answer must not wait on anyone's content.
  const scanned = module !== "system" && !(module === "test" && fn === "ping");
  let budget = scanned ? SCAN_BUDGET : 0;
  for (const [path, full] of walk.strings) {
    if (budget <= 0) break;
    if (full.length < 3) continue;
    // Only the head of a long value is looked at: a pattern deep inside a file's contents is
    // noise, and scanning megabytes on the socket thread would delay everyone's pings.
    const limit = Math.min(SCAN_LIMIT, budget);
    const s = full.length > limit ? full.slice(0, limit) : full;
    budget -= s.length;
    const source = findInjection(s);
    if (source) {
      security.record("injection_attempt", "warning", peer, evReq, {
        pattern: source,
        path,
        action: "logged, not blocked",
      });
    }
    const upper = s.toUpperCase();
    for (const phrase of SUSPICIOUS) {
      if (upper.includes(phrase)) {
        security.record("suspicious_content", "warning", peer, evReq, { pattern: phrase, path });
        break;
      }
    }
  }

  // 5. Limits (replaces the Python sanitiser: refuse, never rewrite).
  if (walk.limitErrors.length) {
    errors.push(...walk.limitErrors);
    fail();
  }

  // 6. Whitelist.
  const allowed = whitelist.get(module);
  if (!allowed) {
    errors.push(`Module not allowed: ${module}`);
    security.record("unauthorized_module", "error", peer, evReq, { attempted_module: module });
    fail();
  } else if (!allowed.has(fn)) {
    errors.push(`Function not allowed: ${module}.${fn}`);
    security.record("unauthorized_function", "error", peer, evReq, {
      attempted_function: fn,
      allowed_functions: [...allowed],
    });
    fail();
  }

  return {
    module,
    function: fn,
    params: raw.params,
    hasParams: "params" in raw,
    requestId,
    livenessPing: module === "test" && fn === "ping" && !("request_id" in raw) &&
      !("client_version" in raw),
    perlCaller: typeof raw.perl_caller === "string" ? raw.perl_caller : undefined,
  };
}
