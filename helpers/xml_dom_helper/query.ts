/**
 * @module
 * Query evaluation for both XML helpers: XPath 1.0 (XML::XPath) and the XQL subset that
 * XML::XQL's `xql()` users write, both rewritten to XPath 1.0 for the `xpath` package.
 *
 * Name tests match the qualified name as written (`q:item`, `item`), which is how XML::XPath
 * resolves unprefixed names (an element in a default namespace still matches `item`) and how the
 * namespace-unaware XML::DOM sees tags. XQL extras mapped (see `toXPath`): `$and$ $or$ $eq$ $ne$
 * $lt$ $le$ $gt$ $ge$`, 0-based `[n]` and `[-n]` indexes, `textNode()`, `end()`, `index()`,
 * `nodeName()`, `pi()`. Other XQL-only syntax (`$any$`, `[1 to 3]`, `[0,2]`, `$ieq$`) fails
 * with an explicit error.
 */

import xpath from "xpath";
import type { Node } from "@xmldom/xmldom";
import { perlNumber } from "./dom.ts";
import { useFastDocumentOrder } from "./order.ts";

type Tok = { t: "str" | "num" | "name" | "op" | "var" | "xqlop"; v: string };

const MULTI = ["..", "//", "::", "!=", "<=", ">="];
const SINGLE = "./@()[],|+-=<>*";
const NAME = /^[\p{L}_][\p{L}\p{N}_.\-\u00B7]*(?::(?:[\p{L}_][\p{L}\p{N}_.\-\u00B7]*|\*))?/u;
const OPERATOR_NAMES = new Set(["and", "or", "div", "mod"]);
const XQL_OPS: Record<string, string> = {
  and: "and",
  or: "or",
  eq: "=",
  ne: "!=",
  lt: "<",
  le: "<=",
  gt: ">",
  ge: ">=",
};
const XQL_FUNCS: Record<string, string> = {
  textNode: "text",
  pi: "processing-instruction",
  nodeName: "name",
};

function tokenize(expr: string, xql: boolean): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < expr.length) {
    const ch = expr[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const rest = expr.slice(i);
    if (ch === '"' || ch === "'") {
      const end = expr.indexOf(ch, i + 1);
      if (end < 0) throw new SyntaxError(`unterminated string starting at offset ${i}`);
      toks.push({ t: "str", v: expr.slice(i, end + 1) });
      i = end + 1;
      continue;
    }
    const num = /^(\d+(\.\d*)?|\.\d+)/.exec(rest);
    if (num) {
      toks.push({ t: "num", v: num[0] });
      i += num[0].length;
      continue;
    }
    if (ch === "$") {
      const m = /^\$([\p{L}_][\p{L}\p{N}_.-]*)(\$?)/u.exec(rest);
      if (!m) throw new SyntaxError(`unexpected "$" at offset ${i}`);
      if (xql && m[2]) {
        const op = XQL_OPS[m[1]!];
        if (!op) throw new SyntaxError(`XQL operator $${m[1]}$ is not supported`);
        toks.push({ t: "xqlop", v: op });
      } else {
        toks.push({ t: "var", v: m[0] });
      }
      i += m[0].length;
      continue;
    }
    const multi = MULTI.find((m) => rest.startsWith(m));
    if (multi) {
      toks.push({ t: "op", v: multi });
      i += 2;
      continue;
    }
    const name = NAME.exec(rest);
    if (name) {
      toks.push({ t: "name", v: name[0] });
      i += name[0].length;
      continue;
    }
    if (SINGLE.includes(ch)) {
      toks.push({ t: "op", v: ch });
      i++;
      continue;
    }
    throw new SyntaxError(`unexpected character "${ch}" at offset ${i}`);
  }
  return toks;
}

/** Whether a token ends an operand, so a following `*` or name is an operator (XPath §3.7). */
function endsOperand(tok: Tok | undefined, wasOperator: boolean): boolean {
  if (!tok || wasOperator) return false;
  if (tok.t === "str" || tok.t === "num" || tok.t === "var" || tok.t === "name") return true;
  return tok.t === "op" && [")", "]", ".", "..", "*"].includes(tok.v);
}

function nameTest(qname: string): string {
  if (qname === "*") return "*";
  if (qname.endsWith(":*")) return `*[starts-with(name(),'${qname.slice(0, -1)}')]`;
  return `*[name()='${qname}']`;
}

/**
 * Rewrites an XPath (or, with `xql`, an XQL) expression to XPath 1.0 with qualified-name tests.
 *
 * @throws {SyntaxError} on a lexical error or an unsupported XQL construct
 */
export function toXPath(expr: string, xql: boolean): string {
  const toks = tokenize(expr, xql);
  const out: Tok[] = [];
  let prevWasOperator = false;
  for (let i = 0; i < toks.length; i++) {
    const tok = toks[i]!, next = toks[i + 1];
    const afterOperand = endsOperand(toks[i - 1], prevWasOperator);
    prevWasOperator = false;
    if (tok.t === "xqlop") {
      out.push({ t: "op", v: tok.v === "and" || tok.v === "or" ? ` ${tok.v} ` : tok.v });
      continue;
    }
    if (tok.t === "op" && tok.v === "*" && afterOperand) {
      prevWasOperator = true;
      out.push({ t: "op", v: " * " });
      continue;
    }
    // XML::XPath keeps namespace declarations off the attribute axis; xpath.js does not.
    if (
      tok.t === "op" && tok.v === "*" &&
      (toks[i - 1]?.v === "@" || (toks[i - 1]?.v === "::" && toks[i - 2]?.v === "attribute"))
    ) {
      out.push({ t: "op", v: "*[name()!='xmlns' and not(starts-with(name(),'xmlns:'))]" });
      continue;
    }
    if (xql && tok.t === "op" && tok.v === "[") {
      const neg = toks[i + 1]?.v === "-" ? 1 : 0;
      const n = toks[i + 1 + neg], close = toks[i + 2 + neg];
      if (n?.t === "num" && /^\d+$/.test(n.v) && close?.v === "]") {
        const k = Number(n.v);
        const pred = neg ? (k <= 1 ? "last()" : `last()-${k - 1}`) : String(k + 1);
        out.push({ t: "op", v: `[${pred}]` });
        i += 2 + neg;
        continue;
      }
    }
    if (tok.t !== "name") {
      out.push(tok);
      continue;
    }
    if (OPERATOR_NAMES.has(tok.v) && afterOperand) {
      prevWasOperator = true;
      out.push({ t: "op", v: ` ${tok.v} ` });
    } else if (next?.v === "(") {
      if (xql && tok.v === "end" && toks[i + 2]?.v === ")") {
        out.push({ t: "op", v: "(position()=last())" }), i += 2;
      } else if (xql && tok.v === "index" && toks[i + 2]?.v === ")") {
        out.push({ t: "op", v: "(position()-1)" }), i += 2;
      } else {
        out.push({ t: "op", v: (xql ? XQL_FUNCS[tok.v] : undefined) ?? tok.v });
      }
    } else if (next?.v === "::") {
      out.push({ t: "op", v: tok.v });
    } else {
      out.push({ t: "op", v: nameTest(tok.v) });
    }
  }
  return out.map((t) => t.v).join("");
}

/** A query result: nodes in document order, or a scalar already rendered as Perl would. */
export type QueryResult =
  | { kind: "nodes"; nodes: Node[] }
  | { kind: "scalar"; type: "number" | "string" | "boolean"; value: string };

/** Query outcome: a result, or an error message naming the expression. */
export type QueryOutcome = { ok: true; value: QueryResult } | { ok: false; error: string };

/** Evaluates an XPath (or XQL, with `xql`) expression with `context` as the context node. */
export function runQuery(expr: string, context: Node, xql: boolean): QueryOutcome {
  const lang = xql ? "XQL" : "XPath";
  let translated: string;
  try {
    translated = toXPath(expr, xql);
    if (translated.trim() === "") throw new SyntaxError("the expression is empty");
  } catch (err) {
    return { ok: false, error: `Invalid ${lang} expression '${expr}': ${(err as Error).message}` };
  }
  let r: unknown;
  try {
    useFastDocumentOrder();
    r = xpath.select(translated, context as unknown as globalThis.Node);
  } catch (err) {
    return { ok: false, error: `Invalid ${lang} expression '${expr}': ${(err as Error).message}` };
  }
  if (Array.isArray(r)) return { ok: true, value: { kind: "nodes", nodes: r as Node[] } };
  if (typeof r === "number") {
    // XML::XPath::Number prints infinities as "Infinity" / "-Infinity" (Perl's own "Inf").
    const value = !xql && r === Infinity
      ? "Infinity"
      : !xql && r === -Infinity
      ? "-Infinity"
      : perlNumber(r);
    return { ok: true, value: { kind: "scalar", type: "number", value } };
  }
  if (typeof r === "boolean") {
    return { ok: true, value: { kind: "scalar", type: "boolean", value: r ? "1" : "0" } };
  }
  return { ok: true, value: { kind: "scalar", type: "string", value: String(r ?? "") } };
}
