/**
 * @module
 * The request head LWP::UserAgent 6.68 writes (LWP::Protocol::http + HTTP::Headers 6.44 +
 * Net::HTTP): `TE`/`Connection` first, then the caller's headers plus `Host` in HTTP::Headers'
 * canonical order and case, then `Content-Length` when the body is not empty. An empty body
 * sends no `Content-Length`, as LWP does for `HTTP::Request->new(POST => $url, $h, "")`.
 */

import { perlBytes } from "../types.ts";
import { hostOf, pathQueryOf } from "./uri.ts";

/** HTTP::Headers' @general_headers, @request_headers, @response_headers, @entity_headers. */
const HEADER_ORDER = [
  ..."Cache-Control Connection Date Pragma Trailer Transfer-Encoding Upgrade Via Warning"
    .split(" "),
  ..."Accept Accept-Charset Accept-Encoding Accept-Language Authorization Expect From Host"
    .split(" "),
  ..."If-Match If-Modified-Since If-None-Match If-Range If-Unmodified-Since".split(" "),
  ..."Max-Forwards Proxy-Authorization Range Referer TE User-Agent".split(" "),
  ..."Accept-Ranges Age ETag Location Proxy-Authenticate Retry-After Server Vary WWW-Authenticate"
    .split(" "),
  ..."Allow Content-Encoding Content-Language Content-Length Content-Location Content-MD5"
    .split(" "),
  ..."Content-Range Content-Type Expires Last-Modified".split(" "),
];
const RANK = new Map(HEADER_ORDER.map((h, i) => [h.toLowerCase(), i + 1]));
const STANDARD_CASE = new Map(HEADER_ORDER.map((h) => [h.toLowerCase(), h]));

/** One header field as HTTP::Headers keeps it: lower-cased key, written name, values. */
interface Field {
  readonly name: string;
  values: string[];
}

/** HTTP::Headers::_header: `_` → `-`, standard names in standard case, else `\b\w` upper-cased. */
function fieldKey(name: string): { key: string; name: string } {
  if (name.startsWith(":")) return { key: name, name: name.slice(1) };
  const dashed = name.replaceAll("_", "-");
  const key = dashed.toLowerCase();
  const std = STANDARD_CASE.get(key) ??
    dashed.replace(/(^|[^A-Za-z0-9_])([a-z])/g, (_, b: string, c: string) => b + c.toUpperCase());
  return { key, name: std };
}

/** The caller's headers as an HTTP::Headers object would hold them (later same-name keys win). */
export function headerFields(headers: Record<string, string>): Map<string, Field> {
  const out = new Map<string, Field>();
  for (const [raw, value] of Object.entries(headers)) {
    if (raw === "") continue;
    const { key, name } = fieldKey(raw);
    out.set(key, { name: out.get(key)?.name ?? name, values: [value] });
  }
  return out;
}

/** What `requestHead` needs. */
export interface HeadInput {
  readonly method: string;
  /** The parsed URL (for its credentials). */
  readonly url: URL;
  /** The URL text as URI holds it (`escapeLikeUri`): the request target and `Host` come from it. */
  readonly uri: string;
  readonly headers: Record<string, string>;
  readonly bodyLength: number;
  /** Set for a plain-HTTP request through a proxy: absolute-form target, proxy credentials. */
  readonly proxy?: URL | undefined;
}

const basic = (user: string, pass: string) =>
  btoa(
    String.fromCharCode(...perlBytes(`${decodeURIComponent(user)}:${decodeURIComponent(pass)}`)),
  );

/** The request line and header block, byte for byte as LWP writes them. */
export function requestHead(input: HeadInput): Uint8Array {
  const { url, method } = input;
  const fields = headerFields(input.headers);
  const init = (name: string, value: string) => {
    const { key } = fieldKey(name);
    if (!fields.has(key)) fields.set(key, { name, values: [value] });
  };
  // LWP::Protocol::http::_fixup_header: userinfo → Authorization, Host from the authority.
  if (url.username && !fields.has("authorization")) {
    init("Authorization", `Basic ${basic(url.username, url.password)}`);
  }
  init("Host", hostOf(input.uri));
  if (input.proxy?.username && !fields.has("proxy-authorization")) {
    init("Proxy-Authorization", `Basic ${basic(input.proxy.username, input.proxy.password)}`);
  }
  const sorted = [...fields.entries()].sort(([a], [b]) =>
    (RANK.get(a) ?? 999) - (RANK.get(b) ?? 999) || (a < b ? -1 : a > b ? 1 : 0)
  );
  const lines: string[] = [];
  const connection: string[] = [];
  let givenTe = false, givenLength: string | undefined;
  for (const [key, f] of sorted) {
    for (const v of f.values) {
      const value = v.replaceAll("\n", " ");
      if (key === "connection") {
        connection.push(...value.trim().split(/\s*,\s*/).filter(Boolean));
        continue;
      }
      if (key === "te") givenTe = true;
      if (key === "content-length") {
        givenLength = value;
        // LWP::Protocol::http keeps a right one (and a false one on an empty body) in place.
        const keep = input.bodyLength > 0 ? value === String(input.bodyLength) : !Number(value);
        if (!keep) continue;
      }
      lines.push(`${f.name}: ${value}`);
    }
  }
  // …and appends the body's length when none or a wrong one was given.
  if (input.bodyLength > 0 && givenLength !== String(input.bodyLength)) {
    lines.push(`Content-Length: ${input.bodyLength}`);
  }
  const first: string[] = [];
  if (givenTe) {
    if (!connection.some((c) => c.toLowerCase() === "te")) connection.push("TE");
  } else {
    first.push("TE: deflate,gzip;q=0.3");
    connection.push("TE");
  }
  if (!connection.some((c) => c.toLowerCase() === "close")) connection.push("close");
  first.push(`Connection: ${connection.join(", ")}`);
  const target = input.proxy ? input.uri : pathQueryOf(input.uri);
  const text = [`${method} ${target} HTTP/1.1`, ...first, ...lines, "", ""].join("\r\n");
  return perlBytes(text);
}
