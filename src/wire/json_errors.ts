/**
 * @module
 * `parseRequestJson`: `JSON.parse` with the error texts of Python's `json` module
 * (`Expecting value: line 1 column 1 (char 0)`, `Extra data: …`), which raw-socket clients and
 * logs of the Python daemon show (contract §3.4). The slow, Python-compatible scan runs only
 * after `JSON.parse` has failed.
 */

import { WireError } from "../errors.ts";

class PyJsonError extends Error {
  constructor(readonly msg: string, readonly pos: number) {
    super(msg);
  }
}

const WS = new Set([" ", "\t", "\n", "\r"]);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?/y;

/** Scans `s` as Python's json.loads would and throws the first error it would report. */
function pythonScan(s: string): void {
  let i = 0;
  const skip = () => {
    while (i < s.length && WS.has(s[i]!)) i++;
  };
  const fail = (msg: string, pos = i): never => {
    throw new PyJsonError(msg, pos);
  };
  const scanString = () => {
    const start = i; // at the opening quote
    i++;
    for (;;) {
      if (i >= s.length) fail("Unterminated string starting at", start);
      const c = s.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) fail("Invalid control character at");
      if (c === 0x5c) {
        const e = s[i + 1];
        if (e === undefined) fail("Unterminated string starting at", start);
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6))) fail("Invalid \\uXXXX escape");
          i += 6;
        } else if ('"\\/bfnrt'.includes(e!)) i += 2;
        else fail("Invalid \\escape");
      } else i++;
    }
  };
  // Explicit stack: 'o' object expecting key or '}', 'a' array, with phase flags.
  type Frame = { t: "o" | "a"; first: boolean };
  const stack: Frame[] = [];
  const scanValue = (): void => {
    skip();
    const c = s[i];
    if (c === "{") {
      i++;
      stack.push({ t: "o", first: true });
      return;
    }
    if (c === "[") {
      i++;
      stack.push({ t: "a", first: true });
      return;
    }
    if (c === '"') return scanString();
    if (s.startsWith("null", i) || s.startsWith("true", i)) {
      i += 4;
      return;
    }
    if (s.startsWith("false", i)) {
      i += 5;
      return;
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(s);
    if (m) {
      i += m[0].length;
      return;
    }
    fail("Expecting value");
  };
  scanValue();
  while (stack.length > 0) {
    const f = stack[stack.length - 1]!;
    skip();
    if (f.t === "o") {
      if (f.first && s[i] === "}") {
        i++;
        stack.pop();
        continue;
      }
      if (!f.first) {
        if (s[i] === "}") {
          i++;
          stack.pop();
          continue;
        }
        if (s[i] !== ",") fail("Expecting ',' delimiter");
        i++;
        skip();
      }
      f.first = false;
      if (s[i] !== '"') fail("Expecting property name enclosed in double quotes");
      scanString();
      skip();
      if (s[i] !== ":") fail("Expecting ':' delimiter");
      i++;
      scanValue();
    } else {
      if (f.first && s[i] === "]") {
        i++;
        stack.pop();
        continue;
      }
      if (!f.first) {
        if (s[i] === "]") {
          i++;
          stack.pop();
          continue;
        }
        if (s[i] !== ",") fail("Expecting ',' delimiter");
        i++;
      }
      f.first = false;
      scanValue();
    }
  }
  skip();
  if (i < s.length) fail("Extra data");
}

/** Formats Python's `<msg>: line L column C (char P)`, counting code points. */
function pythonPosition(s: string, msg: string, unitPos: number): string {
  const before = s.slice(0, unitPos);
  const pos = [...before].length;
  const line = before.split("\n").length;
  const lastNl = before.lastIndexOf("\n");
  const col = lastNl < 0 ? pos + 1 : [...before.slice(lastNl + 1)].length + 1;
  return `${msg}: line ${line} column ${col} (char ${pos})`;
}

const LONG_DIGITS = /\d{16}/;
const INTEGER = /^-?\d+$/;

/** JSON.parse reviver: an unsafe integer comes back as its source digits. */
function keepBigIntegers(_key: string, value: unknown, context?: { source?: string }): unknown {
  if (typeof value !== "number" || Number.isSafeInteger(value)) return value;
  const source = context?.source;
  return source !== undefined && INTEGER.test(source) ? source : value;
}

/**
 * Parses request text.
 *
 * @throws {WireError} JSONDecodeError, with Python's message and position
 */
export function parseRequestJson(text: string): unknown {
  try {
    // DEFECT-FIX (contract §12 W8): a Perl integer beyond 2^53 (an IV up to 2^64) would be
    // rounded by a plain parse; it is kept as its digits, a string, which every Perl consumer
    // (DBI binds, Excel::Writer::XLSX's write(), eq and ==) treats as the same number. Only texts
    // with a 16-digit run take the slower parse with a reviver.
    return LONG_DIGITS.test(text) ? JSON.parse(text, keepBigIntegers) : JSON.parse(text);
  } catch (err) {
    try {
      pythonScan(text);
    } catch (e) {
      if (e instanceof PyJsonError) {
        throw new WireError(pythonPosition(text, e.msg, e.pos), "JSONDecodeError", {
          kind: "bad_json",
        });
      }
      throw e;
    }
    // Python accepts it but JavaScript does not (cannot happen for valid JSON).
    throw new WireError(String((err as Error).message), "JSONDecodeError", { kind: "bad_json" });
  }
}
