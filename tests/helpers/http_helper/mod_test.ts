/**
 * http_helper against local HTTP, HTTPS (self-signed), proxy and capture servers: the flat
 * result of helpers contract §3.2, form and multipart posts, LWP::UserAgent's redirect rules,
 * decoded_content's charsets, the certificate switch, the caller's proxy settings, and LWP's
 * internal responses for failures. The differential tests against LWP itself are in
 * tests/perl/http_*.t.
 */

import assert from "node:assert/strict";
import { httpHelper } from "../../../helpers/http_helper/mod.ts";
import { makeTestContext } from "../../_support/context.ts";
import type { CallContext } from "../../../helpers/types.ts";
import { startHttpServers } from "../../_support/http_server.ts";
import { decodeUtf8 } from "../../../helpers/http_helper/perl_encode.ts";
import { helperFn } from "../../_support/helper_fn.ts";

type R = Record<string, unknown>;

const call = async (ctx: CallContext, f: string, args: R): Promise<R> =>
  await helperFn(httpHelper, f).run(args, ctx) as R;

const bodyOf = (r: R) => JSON.parse(r.content as string);

/** A context whose caller environment is `env` (instead of /proc/<pid>/environ). */
function withEnv(ctx: CallContext, env: Record<string, string>): CallContext {
  return { ...ctx, callerEnv: (n: string) => Promise.resolve(env[n]) };
}

Deno.test("http_helper against local servers", async (t) => {
  const s = await startHttpServers();
  const tc = makeTestContext({ module: "http_helper" });
  const ctx = withEnv(tc.ctx, {});
  try {
    await t.step("GET returns the flat LWP-style result", async () => {
      const r = await call(ctx, "lwp_request", {
        method: "GET",
        url: `${s.httpUrl}/get?x=1`,
        headers: { "User-Agent": "LWP::UserAgent/6.00" },
        timeout: 10,
        verify_ssl: 1,
      });
      assert.equal(r.success, true);
      assert.equal(r.status_code, 200);
      assert.equal(r.reason, "OK");
      assert.equal(r.status_line, "200 OK");
      assert.equal(r.content, r.body);
      assert.equal(r.url, `${s.httpUrl}/get?x=1`);
      assert.equal((r.headers as R)["Content-Type"], "application/json");
      assert.equal(typeof r.elapsed, "number");
      assert.equal("error" in r, false);
      const echoed = bodyOf(r);
      assert.equal(echoed.headers["user-agent"], "LWP::UserAgent/6.00");
      assert.equal(echoed.query, "?x=1");
    });

    await t.step(
      "form_encoded_content wins over content, with HTTP::Request::Common's default Content-Type",
      async () => {
        const r = await call(ctx, "lwp_request", {
          method: "POST",
          url: `${s.httpUrl}/post`,
          headers: {},
          content: "ignored=1",
          form_encoded_content: "a=1&b=%C3%A9&monitor=1",
        });
        const e = bodyOf(r);
        assert.equal(e.body, "a=1&b=%C3%A9&monitor=1");
        assert.equal(e.headers["content-type"], "application/x-www-form-urlencoded");
      },
    );

    await t.step(
      "multipart and raw bodies go out byte for byte with the caller's Content-Type",
      async () => {
        const boundary = "xYzZY";
        const content =
          `--${boundary}\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\n` +
          `Content-Type: text/plain\r\n\r\nline1\nline2 \u00c3\u00bc\r\n--${boundary}--\r\n`;
        const r = await call(ctx, "post", {
          url: `${s.httpUrl}/post`,
          headers: { "Content-Type": `multipart/form-data; boundary=${boundary}` },
          content,
        });
        const e = bodyOf(r);
        assert.equal(e.body, content);
        assert.equal(e.headers["content-type"], `multipart/form-data; boundary=${boundary}`);
        const put = await call(ctx, "put", {
          url: `${s.httpUrl}/echo`,
          content: '{"k":1}',
          headers: { "Content-Type": "application/json" },
        });
        assert.equal(bodyOf(put).method, "PUT");
        const del = await call(ctx, "delete", { url: `${s.httpUrl}/echo` });
        assert.equal(bodyOf(del).method, "DELETE");
        const head = await call(ctx, "head", { url: `${s.httpUrl}/echo` });
        assert.equal(head.status_code, 200);
        assert.equal(head.content, "");
      },
    );

    await t.step("HTTP errors: success false with the real code, body and error", async () => {
      const r = await call(ctx, "get", { url: `${s.httpUrl}/status/404` });
      assert.equal(r.success, false);
      assert.equal(r.status_code, 404);
      assert.equal(r.status_line, "404 Not Found");
      assert.equal(r.content, "status 404 body");
      assert.equal(r.error, "HTTP 404: Not Found");
      const r5 = await call(ctx, "get", { url: `${s.httpUrl}/status/503` });
      assert.equal(r5.error, "HTTP 503: Service Unavailable");
      const teapot = await call(ctx, "get", { url: `${s.httpUrl}/status/418` });
      assert.equal(teapot.status_line, "418 I'm a teapot");
    });

    await t.step(
      "redirects: GET and HEAD followed up to 7 times; POST, PUT never (LWP::UserAgent)",
      async () => {
        const r = await call(ctx, "get", { url: `${s.httpUrl}/redirect/7` });
        assert.equal(r.status_code, 200);
        assert.equal(r.url, `${s.httpUrl}/echo`);
        const tooMany = await call(ctx, "get", { url: `${s.httpUrl}/redirect/8` });
        assert.deepEqual([tooMany.success, tooMany.status_line], [false, "302 Found"]);
        assert.equal(tooMany.url, `${s.httpUrl}/redirect/1`);
        for (const code of [301, 302, 303, 307]) {
          const post = await call(ctx, "post", {
            url: `${s.httpUrl}/redirect-code/${code}`,
            form_encoded_content: "a=1",
          });
          assert.equal(post.status_code, code, `POST answered with ${code} is not followed`);
        }
        const g308 = await call(ctx, "get", { url: `${s.httpUrl}/redirect-code/308` });
        assert.equal(g308.status_code, 200);
        const h303 = await call(ctx, "head", { url: `${s.httpUrl}/redirect-code/303` });
        assert.deepEqual([h303.status_code, h303.url], [200, `${s.httpUrl}/echo`]);
      },
    );

    await t.step("charset from Content-Type; cookies only through headers", async () => {
      assert.equal((await call(ctx, "get", { url: `${s.httpUrl}/latin1` })).content, "café");
      const c = await call(ctx, "get", { url: `${s.httpUrl}/cookie`, headers: { Cookie: "k=v" } });
      assert.equal(c.content, "cookie header: k=v");
      assert.equal((c.headers as R)["Set-Cookie"], "session=xyz; Path=/");
    });

    await t.step(
      "HTTPS with a self-signed certificate: refused when verifying, fine with verify_ssl 0",
      async () => {
        const strict = await call(ctx, "get", { url: `${s.httpsUrl}/get`, verify_ssl: 1 });
        assert.equal(strict.success, false);
        assert.equal(strict.status_code, 500);
        assert.match(
          String(strict.status_line),
          /^500 Can't connect to 127\.0\.0\.1:\d+ \(certificate verify failed\)$/,
        );
        assert.match(String(strict.error), /^Connection failed: .*certificate/i);
        const loose = await call(ctx, "lwp_request", {
          method: "POST",
          url: `${s.httpsUrl}/post`,
          verify_ssl: "0",
          content: "z=1",
        });
        assert.equal(loose.success, true, String(loose.error));
        assert.equal(bodyOf(loose).body, "z=1");
        const redirected = await call(ctx, "get", {
          url: `${s.httpsUrl}/redirect/2`,
          verify_ssl: 0,
        });
        assert.equal(redirected.url, `${s.httpsUrl}/echo`);
      },
    );

    await t.step("proxies come from the caller's environment, with no_proxy", async () => {
      const viaProxy = withEnv(tc.ctx, { http_proxy: s.proxyUrl, https_proxy: s.proxyUrl });
      const r = await call(viaProxy, "get", { url: "http://service.invalid/x?y=1" });
      assert.equal(r.content, "proxied GET http://service.invalid/x?y=1");
      const tunnelUrl = s.httpsUrl.replace("127.0.0.1", "tunnel.invalid");
      const tunneled = await call(viaProxy, "get", { url: `${tunnelUrl}/get`, verify_ssl: 0 });
      assert.equal(tunneled.success, true, String(tunneled.error));
      assert.equal(bodyOf(tunneled).path, "/get");
      const bypass = withEnv(tc.ctx, {
        HTTP_PROXY: s.proxyUrl,
        NO_PROXY: "example.org, 127.0.0.1",
      });
      assert.equal(bodyOf(await call(bypass, "get", { url: `${s.httpUrl}/get` })).path, "/get");
    });

    await t.step("failures: LWP's internal responses", async () => {
      const refused = await call(ctx, "get", { url: `http://127.0.0.1:${s.closedPort}/` });
      const msg = `Can't connect to 127.0.0.1:${s.closedPort} (Connection refused)`;
      assert.deepEqual(
        [refused.success, refused.status_code, refused.reason, refused.status_line, refused.error],
        [false, 500, msg, `500 ${msg}`, `Connection failed: ${msg}`],
      );
      const started = Date.now();
      const slow = call(ctx, "get", { url: `${s.silentUrl}/`, timeout: 1 });
      const other = await call(ctx, "get", { url: `${s.httpUrl}/get` });
      assert.equal(other.success, true);
      assert.ok(Date.now() - started < 900, "another request waited for the silent server");
      const timedOut = await slow;
      assert.deepEqual(
        [timedOut.success, timedOut.reason, timedOut.status_line, timedOut.error],
        [false, "read timeout", "500 read timeout", "Request failed: read timeout"],
      );
      const late = await call(ctx, "get", { url: `${s.httpUrl}/delay/1500`, timeout: 1 });
      assert.equal(late.status_line, "500 read timeout");
      const bad = await call(ctx, "get", { url: "not a url" });
      assert.deepEqual([bad.status_line, bad.content], [
        "400 URL must be absolute",
        "400 URL must be absolute\n",
      ]);
      assert.equal((await call(ctx, "get", { url: "" })).status_line, "400 URL missing");
      assert.equal(
        (await call(ctx, "get", { url: "foo://x/" })).status_line,
        "501 Protocol scheme 'foo' is not supported",
      );
      assert.equal(
        (await call(ctx, "get", { url: "http:///x" })).status_line,
        "500 No Host option provided",
      );
      const unknown = await call(ctx, "get", { url: `${s.httpUrl}/status/299` });
      assert.deepEqual([unknown.success, unknown.status_line], [true, "299 Unknown code"]);
    });

    await t.step("a call the daemon cancels ends at once with a 500", async () => {
      const ac = new AbortController();
      const pending = call({ ...ctx, signal: ac.signal }, "get", {
        url: `${s.silentUrl}/`,
        timeout: 60,
      });
      const started = Date.now();
      ac.abort();
      const r = await pending;
      assert.deepEqual([r.status_line, r.success], ["500 request cancelled by the daemon", false]);
      assert.ok(Date.now() - started < 2000);
    });

    await t.step("bodies: bytes for binary types, decoded text for text types", async () => {
      const all = await call(ctx, "get", { url: `${s.httpUrl}/bytes` });
      assert.equal(all.content, String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i)));
      const chunked = await call(ctx, "get", { url: `${s.httpUrl}/chunked` });
      assert.equal((chunked.headers as R)["Transfer-Encoding"], "chunked");
      assert.equal((chunked.content as string).length, 100_000);
      const big = await call(ctx, "get", { url: `${s.httpUrl}/blob/3000000` });
      assert.equal((big.content as string).length, 3_000_000);
      const utf8 = await call(ctx, "get", {
        url: `${s.httpUrl}/typed?ct=text/plain;charset=utf-8&ce=gzip&hex=e697a5fafb`,
      });
      assert.equal(utf8.content, "\u65e5\ufffd\ufffd");
    });

    await t.step("header names go out as HTTP::Headers writes them, to any port", async () => {
      const r = await call(ctx, "get", {
        url: `${s.badPortUrl ?? s.captureUrl}/h`,
        headers: { "X-Custom-Header": "v", "x-lower": "1", "User-Agent": "LWP::UserAgent/6.00" },
      });
      assert.equal(r.status_line, "200 Captured");
      const host = new URL(s.badPortUrl ?? s.captureUrl).host;
      assert.equal(
        r.content,
        `GET /h HTTP/1.1\r\nTE: deflate,gzip;q=0.3\r\nConnection: TE, close\r\nHost: ${host}\r\n` +
          `User-Agent: LWP::UserAgent/6.00\r\nX-Custom-Header: v\r\nX-Lower: 1\r\n\r\n`,
      );
    });
  } finally {
    await tc.close();
    await s.stop();
  }
});

Deno.test("decodeUtf8() replaces one U+FFFD per malformed sequence, as Encode does", () => {
  const hex = (h: string) => Uint8Array.from(h.match(/../g)!, (x) => parseInt(x, 16));
  assert.equal(decodeUtf8(hex("fafbfcfdfeff"), true), "\ufffd".repeat(6));
  assert.equal(decodeUtf8(hex("eda080"), true), "\ufffd");
  assert.equal(decodeUtf8(hex("f4908080"), true), "\ufffd");
  assert.equal(decodeUtf8(hex("e69778"), true), "\ufffdx");
  assert.equal(decodeUtf8(hex("efbfbe"), true), "\ufffd");
  assert.equal(decodeUtf8(hex("efbfbe"), false), "\ufffe");
  assert.equal(decodeUtf8(hex("e697a5"), true), "\u65e5");
});
