/**
 * @module
 * The last pass over an incident report before it is written: whatever a log line, an error
 * text or a setting still holds in the shape of a secret (a `password=` pair, URL user-info, a
 * quoted secret-named JSON field, an Oracle `user/password@db` connect string) is replaced by
 * `[REDACTED]`, so the file is safe to attach to a ticket.
 */

const RULES: readonly [RegExp, string][] = [
  // JSON and Python-repr fields with a secret-looking name: "password": "x", 'pwd': 'x'
  [
    /(["'](?:[\w-]*(?:pass(?:word|wd|phrase)?|secret|token|api[_-]?key|private[_-]?key|credential|authorization|cookie|pwd)[\w-]*)["']\s*:\s*)("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')/gi,
    '$1"[REDACTED]"',
  ],
  // key=value pairs in DSNs, URLs and command lines
  [
    /\b((?:[\w-]*(?:pass(?:word|wd)?|secret|token|api[_-]?key|pwd))\s*=\s*)([^\s;&,'"]+)/gi,
    "$1[REDACTED]",
  ],
  // user-info in URLs: scheme://user:password@host
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:)([^\s@/]+)@/gi, "$1[REDACTED]@"],
  // Oracle connect strings: user/password@db
  [/(\b[\w$#]+\/)([^\s/@'"]+)(@[\w.\-:/]+)/g, "$1[REDACTED]$3"],
  [/(authorization:\s*)(\S+(?:\s+\S+)?)/gi, "$1[REDACTED]"],
];

/** `text` with every secret-shaped value replaced by `[REDACTED]`. */
export function scrubSecrets(text: string): string {
  let out = text;
  for (const [re, by] of RULES) out = out.replace(re, by);
  return out;
}
