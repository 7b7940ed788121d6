/**
 * @module
 * The URL text as Perl's URI module holds it, for the request line and `Host` header LWP
 * writes: `URI->new` percent-encodes the Perl bytes of every character outside URI's allowed
 * set (a byte string's bytes, a wide-character string's UTF-8), and LWP sends `path_query`
 * and `authority` as they then stand (and the whole URL, fragment included, to a proxy). The WHATWG parser (`new URL`) is used only to find the
 * host and port to connect to; its own re-encodings (`'` in queries, `\` as `/`, lower-cased
 * hosts) never reach the wire.
 */

import { perlBytes } from "../types.ts";

/** URI's reserved and unreserved characters, plus `%` and `#`, kept as they are. */
const ALLOWED = /[A-Za-z0-9;/?:@&=+$,[\]\-_.!~*'()%#]/;

/** `URI->new($text)->as_string`. */
export function escapeLikeUri(text: string): string {
  let out = "";
  for (const b of perlBytes(text)) {
    const ch = String.fromCharCode(b);
    out += b < 0x80 && ALLOWED.test(ch) ? ch : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

const PARTS = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)([^#]*)/;

/** `$uri->authority` without `user:pass@`, the `Host` LWP sends. */
export function hostOf(escaped: string): string {
  return (PARTS.exec(escaped)?.[1] ?? "").replace(/^[^@]*@/, "");
}

/** `$uri->path_query` with a leading `/`, the request target LWP sends to a server. */
export function pathQueryOf(escaped: string): string {
  const pq = PARTS.exec(escaped)?.[2] ?? "";
  return pq.startsWith("/") ? pq : `/${pq}`;
}
