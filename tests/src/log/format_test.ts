/**
 * Tests of secret redaction by value shape (`scrubSecrets()`, `redact()`) and of the daemon's
 * logs: an Oracle-style `user/password@db` username at WARNING, and at debug level URL
 * user-info, query tokens, `password=` in DSNs, positional params, `authpwd` and proxy URLs.
 */

import assert from "node:assert/strict";
import { redact, scrubSecrets } from "../../../src/log/format.ts";
import { startTestDaemon } from "../../_support/daemon.ts";
import { rawJson } from "../../_support/raw.ts";

Deno.test("scrubSecrets() redacts user-info, secret name=value pairs and user/password@db", () => {
  const cases: Array<[string, string]> = [
    ["as scott/tiger@orcl failed", "as scott/[REDACTED]@orcl failed"],
    ["dbi:Pg:dbname=x;password=sekrit;port=5", "dbi:Pg:dbname=x;password=[REDACTED];port=5"],
    ["dbi:ODBC:DSN=x;UID=u;PWD=p1", "dbi:ODBC:DSN=x;UID=u;PWD=[REDACTED]"],
    [
      "http://bob:hunter2@h/p?a=1&access_token=t0k&x=2",
      "http://bob:[REDACTED]@h/p?a=1&access_token=[REDACTED]&x=2",
    ],
    ["proxy https://u:proxypw@proxy:3128", "proxy https://u:[REDACTED]@proxy:3128"],
    ["authpwd=zz9", "authpwd=[REDACTED]"],
    ["?api_key=k1&sig=s1", "?api_key=[REDACTED]&sig=[REDACTED]"],
  ];
  for (const [input, want] of cases) assert.equal(scrubSecrets(input), want, input);
  for (const keep of ["me@example.com", "/a/b@c", "Strict validation: True", "dbname=x;host=h"]) {
    assert.equal(scrubSecrets(keep), keep);
  }
});

Deno.test("scrubSecrets() is linear: 16 KiB of adversarial text takes milliseconds", () => {
  for (const bait of ["a=", "a/b@", "x://a:b", "a.", "password=", "a:@"]) {
    const s = bait.repeat(Math.ceil(16_384 / bait.length));
    const t0 = performance.now();
    scrubSecrets(s);
    const ms = performance.now() - t0;
    assert.ok(ms < 200, `${bait}: ${ms.toFixed(0)} ms`);
  }
});

Deno.test("redact() redacts positional DBI passwords, pair lists and authpwd", () => {
  assert.deepEqual(redact(["dbi:Oracle:orcl", "scott", "tiger"]), [
    "dbi:Oracle:orcl",
    "scott",
    "[REDACTED]",
  ]);
  assert.deepEqual(redact(["user", "u", "password", "pw"]), [
    "user",
    "u",
    "password",
    "[REDACTED]",
  ]);
  assert.deepEqual(redact({ authpwd: "x", dsn: "dbi:Pg:password=y" }), {
    authpwd: "[REDACTED]",
    dsn: "dbi:Pg:password=[REDACTED]",
  });
});

Deno.test({
  name: "daemon logs carry no secret at WARNING or debug level",
  async fn() {
    await using d = await startTestDaemon({ CPAN_BRIDGE_DEBUG: "1" });
    // A failing Oracle connect with an Oracle-style username: the helper logs a WARNING.
    const r = await rawJson(d.socket, {
      module: "database",
      function: "connect",
      params: { dsn: "dbi:Oracle:orcl", username: "scott/tiger-SECRET1@orcl", password: "" },
      request_id: "1764590000_4242_1",
    });
    assert.equal(JSON.stringify(r).includes("success"), true);
    await rawJson(d.socket, {
      module: "test",
      function: "echo",
      params: [
        "dbi:Pg:dbname=x;password=SECRET2",
        "u",
        "SECRET3",
        {
          url: "http://bob:SECRET4@h.example/p?access_token=SECRET5",
          proxy: "http://u:SECRET6@proxy:3128",
          authpwd: "SECRET7",
        },
      ],
      request_id: "1764590000_4242_2",
    });
    await rawJson(d.socket, {
      module: "test",
      function: "echo",
      params: ["dbi:Oracle:orcl", "scott", "SECRET8"],
    });
    await d.daemon.context.logs.flush();
    const all = (await d.readLog("cpan_daemon.log")) + (await d.readLog("cpan_security.log"));
    assert.match(all, /\[WARNING\].*as scott\/\[REDACTED\](@orcl)? failed/);
    assert.match(all, /Routing test\.echo with params/);
    const leaked = all.match(/SECRET\d/g);
    assert.equal(leaked, null, `leaked: ${leaked}`);
  },
});
