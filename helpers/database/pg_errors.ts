/**
 * @module
 * PostgreSQL errors in the words DBD::Pg's `errstr` uses: libpq's default-verbosity message
 * (`ERROR:  …`, the `LINE n:` display with its `^` under the error position, then `DETAIL:`,
 * `HINT:`, `QUERY:` and `CONTEXT:` lines, the final newline removed), and connect failures as
 * `$DBI::errstr` shows them (`connection to server at "127.0.0.1", port 5432 failed: FATAL:  …`).
 */

/** The fields of a server ErrorResponse, as `pg` exposes them. */
interface PgServerError {
  severity?: string;
  message?: string;
  detail?: string;
  hint?: string;
  position?: string;
  internalPosition?: string;
  internalQuery?: string;
  where?: string;
}

/** libpq's DISPLAY_SIZE and MIN_RIGHT_CUT (fe-protocol3.c reportErrorPosition). */
const DISPLAY_SIZE = 60;
const MIN_RIGHT_CUT = 10;

/** Screen columns of a character, as libpq's UTF-8 dsplen counts them (East Asian wide: 2). */
function width(cp: number): number {
  const wide = (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f) ||
    (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe6f) || (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x20000 && cp <= 0x3fffd);
  return wide ? 2 : 1;
}

/** libpq's reportErrorPosition: the `LINE n:` line and the cursor line, or "" when out of range. */
export function errorPosition(position: number, query: string): string {
  const chars = Array.from(query.replace(/\0[\s\S]*$/, ""));
  const loc = position - 1;
  if (loc < 0) return "";
  const scr: number[] = [];
  let col = 0;
  let line = 1;
  let ibeg = 0;
  let iend = -1;
  let cno = 0;
  for (const ch of chars) {
    scr[cno] = col;
    if (ch === "\t") chars[cno] = " ";
    else if (ch === "\r" || ch === "\n") {
      if (cno < loc) {
        if (ch === "\r" || cno === 0 || chars[cno - 1] !== "\r") line++;
        ibeg = cno + 1;
      } else {
        iend = cno;
        break;
      }
    }
    col += width(ch.codePointAt(0)!); // one code point of the query: never empty
    cno++;
  }
  if (iend < 0) {
    iend = cno;
    scr[iend] = col;
  }
  if (loc > cno) return "";
  // scr holds a column for every index 0..cno, and loc, ibeg and iend stay within 0..cno.
  const at = (i: number): number => scr[i]!;
  let begTrunc = false;
  let endTrunc = false;
  if (at(iend) - at(ibeg) > DISPLAY_SIZE) {
    if (at(ibeg) + DISPLAY_SIZE >= at(loc) + MIN_RIGHT_CUT) {
      while (at(iend) - at(ibeg) > DISPLAY_SIZE) iend--;
      endTrunc = true;
    } else {
      while (at(loc) + MIN_RIGHT_CUT < at(iend)) {
        iend--;
        endTrunc = true;
      }
      while (at(iend) - at(ibeg) > DISPLAY_SIZE) {
        ibeg++;
        begTrunc = true;
      }
    }
  }
  const prefix = `LINE ${line}: ${begTrunc ? "..." : ""}`;
  const text = chars.slice(ibeg, iend).join("");
  const cursor = prefix.length + at(loc) - at(ibeg);
  return `${prefix}${text}${endTrunc ? "..." : ""}\n${" ".repeat(cursor)}^\n`;
}

/** True for an ErrorResponse from the server (it has a severity and a message). */
export function isServerError(err: unknown): err is PgServerError {
  const e = err as PgServerError | null;
  return !!e && typeof e === "object" && typeof e.severity === "string" &&
    typeof e.message === "string";
}

/** libpq's message for a server error on `query` (DBD::Pg's errstr), without the final newline. */
export function libpqMessage(err: PgServerError, query: string | undefined): string {
  let msg = `${err.severity}:  ${err.message}\n`;
  let cursor = "";
  if (err.position && query !== undefined) cursor = errorPosition(Number(err.position), query);
  else if (err.position) msg = msg.replace(/\n$/, ` at character ${err.position}\n`);
  else if (err.internalPosition && err.internalQuery) {
    cursor = errorPosition(Number(err.internalPosition), err.internalQuery);
  }
  msg += cursor;
  if (err.detail) msg += `DETAIL:  ${err.detail}\n`;
  if (err.hint) msg += `HINT:  ${err.hint}\n`;
  if (err.internalQuery) msg += `QUERY:  ${err.internalQuery}\n`;
  if (err.where) msg += `CONTEXT:  ${err.where}\n`;
  return msg.replace(/\n+$/, "");
}

/** Where a connect went, as libpq names it in its errors. */
export interface PgTarget {
  readonly host: string;
  readonly port: number;
  /** The address connected to, when `host` is a name. */
  readonly address?: string;
}

const IP = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-f:]*:[0-9a-f:.]*)$/i;

/** `$DBI::errstr` after a failed DBD::Pg connect (libpq 15's wording). */
export function libpqConnectMessage(err: unknown, t: PgTarget): string {
  const e = err as { code?: string; message?: string; address?: string } | null;
  const socket = t.host.startsWith("/");
  if (e?.code === "ENOTFOUND" || e?.code === "EAI_AGAIN") {
    return `could not translate host name "${t.host}" to address: ${
      e.code === "ENOTFOUND" ? "Name or service not known" : "Temporary failure in name resolution"
    }`;
  }
  const where = socket
    ? `connection to server on socket "${t.host.replace(/\/$/, "")}/.s.PGSQL.${t.port}" failed: `
    : `connection to server at "${t.host}"${
      IP.test(t.host) ? "" : ` (${e?.address ?? t.address ?? t.host})`
    }, port ${t.port} failed: `;
  const hint = socket
    ? "\n\tIs the server running locally and accepting connections on that socket?"
    : "\n\tIs the server running on that host and accepting TCP/IP connections?";
  if (isServerError(err)) return where + libpqMessage(err, undefined);
  switch (e?.code) {
    case "ECONNREFUSED":
      return `${where}Connection refused${hint}`;
    case "ENOENT":
      return `${where}No such file or directory${hint}`;
    case "EHOSTUNREACH":
      return `${where}No route to host${hint}`;
    case "ENETUNREACH":
      return `${where}Network is unreachable${hint}`;
    case "EACCES":
      return `${where}Permission denied${hint}`;
  }
  if (/timeout/i.test(e?.message ?? "")) return `${where}timeout expired`;
  return where + (e?.message ?? String(err));
}
