/**
 * @module
 * Reads one HTTP/1.x response from raw bytes, as Net::HTTP does for LWP: the status line and
 * header block (bounded), then a body framed by `Transfer-Encoding: chunked`, `Content-Length`
 * or the end of the connection (LWP always sends `Connection: close`). Interim 1xx responses
 * are skipped. Pure functions over a growing buffer, so the socket code stays small.
 */

import zlib from "node:zlib";
import { concatBytes } from "../types.ts";

/** One parsed response. */
export interface RawResponse {
  readonly status: number;
  /** The server's reason phrase, possibly empty (HTTP::Response->message). */
  readonly statusText: string;
  readonly headers: [string, string][];
  readonly body: Uint8Array;
}

/** The largest status line plus header block accepted. */
export const MAX_HEAD_BYTES = 256 * 1024;

/** A response the reader cannot parse; `message` is the text LWP would show. */
export class ResponseFormatError extends Error {}

/** The head, parsed: where the body starts and how it is framed. */
export interface Head {
  readonly status: number;
  readonly statusText: string;
  readonly headers: [string, string][];
  readonly bodyStart: number;
  /** No status line: the whole stream is the body. */
  readonly http09: boolean;
}

function latin1(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return s;
}

/**
 * Parses the head at `start`, or returns undefined when it is not complete yet. As Net::HTTP:
 * lines may end in LF alone, a first line that is no status line makes an HTTP/0.9 response
 * ("200 Assumed OK", everything is body), and at `eof` an unfinished header block is taken as
 * it stands.
 */
export function parseHead(buf: Uint8Array, start: number, eof = false): Head | undefined {
  let nl = buf.indexOf(10, start);
  if (nl < 0 && !eof) {
    if (buf.length - start > MAX_HEAD_BYTES) {
      throw new ResponseFormatError("Status line too long (limit is 262144)");
    }
    return undefined;
  }
  if (nl < 0) nl = buf.length;
  if (start >= buf.length) return undefined;
  // Net::HTTP: split(/\s+/, $status, 3); "HTTP/…" and a code 100..599, else HTTP/0.9.
  const line = latin1(buf.subarray(start, nl)).replace(/\r$/, "");
  const status = /^(\S*)\s+(\S*)(?:\s+([\s\S]*))?$/.exec(line);
  const [, proto = "", code = "", reason] = status ?? [];
  if (!status || !/^HTTP\//.test(proto) || !/^[1-5]\d\d$/.test(code)) {
    return { status: 200, statusText: "Assumed OK", headers: [], bodyStart: start, http09: true };
  }
  let end = -1, gap = 0;
  for (let i = nl; i < buf.length; i++) {
    if (buf[i] !== 10) continue;
    if (buf[i + 1] === 10) [end, gap] = [i, 2];
    else if (buf[i + 1] === 13 && buf[i + 2] === 10) [end, gap] = [i, 3];
    if (end >= 0) break;
  }
  if (end < 0) {
    if (!eof) {
      if (buf.length - start > MAX_HEAD_BYTES) {
        throw new ResponseFormatError("Header line too long (limit is 262144)");
      }
      return undefined;
    }
    [end, gap] = [buf.length, 0];
  }
  const headers: [string, string][] = [];
  for (const line of latin1(buf.subarray(nl + 1, end)).split(/\r?\n/)) {
    const last = headers.at(-1);
    if (/^[ \t]/.test(line) && last) {
      last[1] += ` ${line.trim()}`;
      continue;
    }
    const i = line.indexOf(":");
    if (i > 0) headers.push([line.slice(0, i).trim(), line.slice(i + 1).trim()]);
  }
  return {
    status: Number(code),
    statusText: reason ?? "",
    headers,
    bodyStart: Math.min(end + gap, buf.length),
    http09: false,
  };
}

const header = (h: Head, name: string) => h.headers.find(([k]) => k.toLowerCase() === name)?.[1];

/** Decodes a chunked body, or returns undefined when the last chunk has not arrived. */
function dechunk(buf: Uint8Array, start: number): Uint8Array | undefined {
  const parts: Uint8Array[] = [];
  let at = start;
  for (;;) {
    let eol = -1;
    for (let i = at; i + 1 < buf.length; i++) {
      if (buf[i] === 13 && buf[i + 1] === 10) {
        eol = i;
        break;
      }
    }
    if (eol < 0) return undefined;
    const size = parseInt(latin1(buf.subarray(at, eol)).replace(/;[\s\S]*$/, "").trim(), 16);
    if (!Number.isFinite(size) || size < 0) {
      throw new ResponseFormatError("Bad chunk-size in HTTP response");
    }
    at = eol + 2;
    if (size === 0) break;
    if (buf.length < at + size + 2) return undefined;
    parts.push(buf.subarray(at, at + size));
    at += size + 2;
  }
  return concatBytes(parts);
}

/**
 * Net::HTTP::read_entity_body: `chunked` must come last; the codings before it (gzip,
 * deflate, identity, which LWP's `TE: deflate,gzip;q=0.3` invites) are undone in reverse.
 */
function undoTransferCodings(te: string, body: Uint8Array): Uint8Array {
  const codings = te.toLowerCase().split(/\s*,\s*/);
  if (codings.pop() !== "chunked") {
    throw new ResponseFormatError(`Chunked must be last Transfer-Encoding '${te}'`);
  }
  while (codings.length && codings[codings.length - 1] === "chunked") codings.pop();
  let out = body;
  for (const c of codings.reverse()) {
    if (c === "identity") continue;
    if (c !== "gzip" && c !== "deflate") {
      throw new ResponseFormatError(`Can't handle transfer encoding '${te}'`);
    }
    try {
      out = c === "gzip" ? zlib.gunzipSync(out) : zlib.inflateSync(out);
    } catch (err) {
      throw new ResponseFormatError(`Can't ${c === "gzip" ? "gunzip" : "inflate"} content: ${err}`);
    }
  }
  return out;
}

/**
 * The response in `buf`, or undefined while more bytes are needed. With `eof` the body runs
 * to the end of what arrived (a short body is returned as it is, as LWP does).
 */
export function readResponse(
  buf: Uint8Array,
  opts: { readonly isHead: boolean; readonly eof: boolean },
): RawResponse | undefined {
  let start = 0;
  for (let hop = 0; hop < 20; hop++) {
    const head = parseHead(buf, start, opts.eof);
    if (!head) {
      if (opts.eof) {
        throw new ResponseFormatError(
          buf.length === 0
            ? "Server closed connection without sending any data back"
            : "Unexpected EOF while reading response header",
        );
      }
      return undefined;
    }
    if (head.status >= 100 && head.status < 200 && head.status !== 101) {
      start = head.bodyStart;
      continue;
    }
    const done = (body: Uint8Array): RawResponse => ({
      status: head.status,
      statusText: head.statusText,
      headers: head.headers,
      body,
    });
    if (head.http09) return opts.eof ? done(buf.slice(head.bodyStart)) : undefined;
    if (opts.isHead || head.status === 204 || head.status === 304) {
      return done(new Uint8Array(0));
    }
    const te = header(head, "transfer-encoding");
    if (te !== undefined) {
      const body = dechunk(buf, head.bodyStart);
      if (!body) {
        if (opts.eof) throw new ResponseFormatError("Unexpected EOF in chunked body");
        return undefined;
      }
      return done(undoTransferCodings(te, body));
    }
    const len = header(head, "content-length");
    if (len !== undefined && /^\d+$/.test(len)) {
      const n = Number(len);
      if (buf.length - head.bodyStart >= n) {
        return done(buf.slice(head.bodyStart, head.bodyStart + n));
      }
    }
    return opts.eof ? done(buf.slice(head.bodyStart)) : undefined;
  }
  throw new ResponseFormatError("Too many interim responses");
}
