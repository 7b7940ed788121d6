/**
 * @module
 * The log line formats of contract §7 and secret redaction. Daemon log:
 * `<YYYY-MM-DD HH:MM:SS,mmm> [<LEVEL>] CPANDaemon: <message>`; security log:
 * `<YYYY-MM-DD HH:MM:SS,mmm> [SECURITY] <LEVEL>: <message>`; or one JSON object per line.
 */

import { asciiEscapeJson } from "../wire/encoding.ts";

/** Python logging level names. */
export type Level = "DEBUG" | "INFO" | "WARNING" | "ERROR" | "CRITICAL";

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** Local time as Python's logging `asctime`: `2026-11-28 16:20:35,018`. */
export function asctime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${
    pad(d.getMinutes())
  }:${pad(d.getSeconds())},${pad(d.getMilliseconds(), 3)}`;
}

/** Naive local ISO time with microseconds, as Python's `datetime.now().isoformat()`. */
export function localIso(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${
    pad(d.getMinutes())
  }:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}000`;
}

/** A daemon-log line (text format). */
export function daemonLine(
  ms: number,
  level: Level,
  message: string,
  logger = "CPANDaemon",
): string {
  return `${asctime(ms)} [${level}] ${logger}: ${oneLine(message)}\n`;
}

/** A security-log line (text format). */
export function securityLine(ms: number, level: Level, message: string): string {
  return `${asctime(ms)} [SECURITY] ${level}: ${oneLine(message)}\n`;
}

/** A JSON-lines record. */
export function jsonLine(
  ms: number,
  log: "daemon" | "security",
  level: Level,
  message: string,
): string {
  return JSON.stringify({ time: new Date(ms).toISOString(), log, level, message }) + "\n";
}

/** Keeps one record on one line: embedded newlines become `\n` so no line is ever torn. */
function oneLine(s: string): string {
  return s.includes("\n") || s.includes("\r") ? s.replace(/\r/g, "\\r").replace(/\n/g, "\\n") : s;
}

const SECRET_KEY =
  /pass(word|wd|phrase)?|secret|token|api[_-]?key|private[_-]?key|^-?key$|^key_?(file|data|material)?$|credential|authorization|cookie|^auth$|^pwd$/i;

/** True when a parameter or header name holds a secret. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/**
 * A copy of `value` with every secret-named field replaced by `"[REDACTED]"`, at any depth,
 * and long strings shortened. Safe for any log line.
 */
export function redact(value: unknown, maxString = 200, depth = 0): unknown {
  if (typeof value === "string") {
    const s = value.replace(/(authorization:\s*)(\S+(\s+\S+)?)/gi, "$1[REDACTED]");
    return s.length > maxString ? `${s.slice(0, maxString - 3)}...` : s;
  }
  if (value === null || typeof value !== "object") return value;
  if (depth > 8) return "[…]";
  if (Array.isArray(value)) {
    const out = value.slice(0, 50).map((v) => redact(v, maxString, depth + 1));
    if (value.length > 50) out.push(`[… ${value.length - 50} more]`);
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = isSecretKey(k) && v !== null && v !== ""
      ? "[REDACTED]"
      : redact(v, maxString, depth + 1);
  }
  return out;
}

/** Python's `repr()` of a list of strings, e.g. `['Module not allowed: x']`. */
export function pyListRepr(items: readonly string[]): string {
  return `[${items.map(pyStrRepr).join(", ")}]`;
}

/** Python's `repr()` of a string. */
export function pyStrRepr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  const body = s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/\r/g, "\\r").replace(
    /\t/g,
    "\\t",
  );
  return q + (q === "'" ? body.replace(/'/g, "\\'") : body) + q;
}

/** Python's `json.dumps` default text: `", "` and `": "` separators, ASCII escaping. */
export function pyJsonDumps(value: unknown): string {
  const compact = JSON.stringify(value, null, 0) ?? "null";
  // Re-space outside strings: walk the compact text.
  let out = "";
  let inStr = false, esc = false;
  for (const ch of compact) {
    if (inStr) {
      out += ch;
      if (esc) esc = false;
      else if (ch === "\\") esc = true;
      else if (ch === '"') inStr = false;
    } else if (ch === '"') {
      inStr = true;
      out += ch;
    } else if (ch === ",") out += ", ";
    else if (ch === ":") out += ": ";
    else out += ch;
  }
  return asciiEscapeJson(out);
}
