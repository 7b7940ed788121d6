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
  /pass(word|wd|phrase)?|secret|token|api[_-]?key|private[_-]?key|^-?key$|^key_?(file|data|material)?$|credential|authorization|cookie|^auth$|pwd/i;

/** True when a parameter or header name holds a secret. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** Names whose `name=value` in a DSN or URL query is a secret (`password=`, `access_token=`). */
const SECRET_ASSIGN =
  /pass(word|wd|phrase)?|pwd|secret|token|api[_-]?key|^key$|^sig(nature)?$|^auth$|credential/i;

const R = "[REDACTED]";
/** `scheme://user:password@` (URL user-info, proxies included). Bounded: linear. */
const USERINFO = /([a-z][a-z0-9+.-]{0,20}:\/\/)([^\s\/@:]{0,256}):([^\s\/@]{1,256})@/gi;
/** `name=value` in DSNs (`;password=x`) and query strings (`?access_token=x`). */
const ASSIGN = /(?<![\w.-])([a-z][\w.-]{0,63})(\s*=\s*)([^\s;&,'"<>\]})]{1,512})/gi;
/** Oracle-style `user/password@service`. */
const SLASH_AT = /(?<![\w\/:.@$#-])([a-z][\w$#]{0,63})\/([^\s\/@'"]{1,256})@(?=[\w(])/gi;

/**
 * `text` with secrets found by their shape replaced by `[REDACTED]`: URL user-info
 * (`http://bob:[REDACTED]@host`, proxy URLs too), secret-named `name=value` pairs in DSNs and
 * query strings (`password=`, `pwd=`, `authpwd=`, `access_token=`, `api_key=`, `sig=`), and
 * Oracle-style `scott/[REDACTED]@orcl`. Linear in the text's length.
 */
export function scrubSecrets(text: string): string {
  if (text.includes("@")) {
    text = text.replace(USERINFO, (_m, scheme, user) => `${scheme}${user}:${R}@`);
    text = text.replace(SLASH_AT, (_m, user) => `${user}/${R}@`);
  }
  if (text.includes("=")) {
    text = text.replace(
      ASSIGN,
      (m, name: string, eq: string, value: string) =>
        SECRET_ASSIGN.test(name.split(/[.-]/).pop() ?? name) && !value.startsWith("[REDACTED")
          ? `${name}${eq}${R}`
          : m,
    );
  }
  return text;
}

/**
 * A copy of `value` with every secret-named field replaced by `"[REDACTED]"`, at any depth,
 * and long strings shortened. Safe for any log line.
 */
export function redact(value: unknown, maxString = 200, depth = 0): unknown {
  if (typeof value === "string") {
    const s = scrubSecrets(value.replace(/(authorization:\s*)(\S+(\s+\S+)?)/gi, "$1[REDACTED]"));
    return s.length > maxString ? `${s.slice(0, maxString - 3)}...` : s;
  }
  if (value === null || typeof value !== "object") return value;
  if (depth > 8) return "[…]";
  if (Array.isArray(value)) {
    // Positional params: DBI's connect(dsn, user, password), and [name, value] pair lists.
    const dbi = typeof value[0] === "string" && /^dbi:/i.test(value[0]);
    const out = value.slice(0, 50).map((v, i) =>
      (dbi && i === 2 && typeof v === "string" && v !== "") ||
        (i > 0 && typeof value[i - 1] === "string" && /^[\w.-]{1,64}$/.test(value[i - 1]) &&
          isSecretKey(value[i - 1]) && typeof v === "string" && v !== "")
        ? R
        : redact(v, maxString, depth + 1)
    );
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
