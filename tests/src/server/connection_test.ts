/**
 * Recognising control requests before dispatch (server/connection.ts): over the connection limit
 * they are answered at once, so they must be recognised whatever the order of their keys (the
 * client's encode_json orders them at random) and never by a prefix.
 */
import assert from "node:assert/strict";
import { controlRequest, isPing } from "../../../src/server/connection.ts";

const enc = new TextEncoder();

function permutations<T>(xs: readonly T[]): T[][] {
  if (xs.length <= 1) return [[...xs]];
  return xs.flatMap((x, i) =>
    permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p])
  );
}

Deno.test("isPing() behaviour: a ping in each of the 24 key orders, with any spacing", () => {
  const v: Record<string, string> = {
    module: '"test"',
    function: '"ping"',
    params: "{}",
    timestamp: "1795882837.0340073",
  };
  const orders = permutations(Object.keys(v));
  assert.equal(orders.length, 24);
  for (const o of orders) {
    const compact = `{${o.map((k) => `"${k}":${v[k]}`).join(",")}}`;
    const spaced = `\n { ${o.map((k) => `"${k}" : ${v[k]}`).join(" ,\n ")} } `;
    assert.ok(isPing(enc.encode(compact)), compact);
    assert.ok(isPing(enc.encode(spaced)), spaced);
  }
});

Deno.test("controlRequest() behaviour: only test and system, only whole JSON objects", () => {
  const c = (s: string) => controlRequest(enc.encode(s));
  assert.deepEqual(c('{"function":"health","module":"system"}'), {
    module: "system",
    function: "health",
  });
  assert.deepEqual(c('{"params":{"module":"x"},"module":"test","function":"echo"}'), {
    module: "test",
    function: "echo",
  });
  assert.equal(c('{"module":"datetime_helper","function":"now"}'), undefined);
  assert.equal(c('{"params":{"module":"test","function":"ping"},"module":"xml"}'), undefined);
  assert.equal(c('{"module":"test","function":"ping"'), undefined); // truncated
  assert.equal(c('[{"module":"test"}]'), undefined);
  assert.equal(c("null"), undefined);
  assert.equal(isPing(enc.encode('{"module":"test","function":"pingx"}')), false);
  // Larger than 1 MiB: not looked at (it then waits for a slot like a helper call).
  const big = `{"module":"test","function":"echo","params":{"s":"${"x".repeat(1_100_000)}"}}`;
  assert.equal(c(big), undefined);
});
