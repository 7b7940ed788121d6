/**
 * @module
 * `cpan-bridge report` keeps secrets out: secret-shaped values removed, the rest kept.
 */

import assert from "node:assert/strict";
import { scrubSecrets } from "../../../../src/client/report/scrub.ts";

const SECRET = "Sup3r-S3cret-pw";

Deno.test("scrubSecrets() removes secret-shaped values and keeps the rest", () => {
  const text = [
    `{"password": "${SECRET}", "user": "scott"}`,
    `dbi:Pg:host=db;password=${SECRET};port=5432`,
    `http://alice:${SECRET}@proxy.example:3128/`,
    `connect as scott/${SECRET}@orcl failed`,
    `'authpwd': '${SECRET}'`,
    "plain line with /usr/lib/x and user=scott",
  ].join("\n");
  const out = scrubSecrets(text);
  assert.doesNotMatch(out, new RegExp(SECRET));
  assert.match(out, /user=scott/);
  assert.match(out, /"user": "scott"/);
  assert.match(out, /plain line with \/usr\/lib\/x/);
  assert.equal((out.match(/\[REDACTED\]/g) ?? []).length, 5);
});
