/**
 * `cpan-bridge proxy` and `replay` end to end: clients talk to the proxy, which forwards to a
 * stub upstream daemon (answering as the Python daemon would, one answer deliberately wrong);
 * the capture is then replayed against a real cpan-bridge.
 */

import assert from "node:assert/strict";
import { concatBytes } from "../../../../src/sdk/bytes.ts";
import { startProxy } from "../../../../src/client/capture/proxy.ts";
import { readCapture } from "../../../../src/client/capture/capture_file.ts";
import { formatReplay, isReadOnly, replay } from "../../../../src/client/capture/replay.ts";
import { rawCall, rawJson } from "../../../_support/raw.ts";
import { runCli, startTestDaemon } from "../../../_support/daemon.ts";

/**
 * A stub of the Python daemon: forwards each request to `real` and changes what the Python
 * daemon changes (its runtime facts), plus one deliberately different answer (echo of `wrong`).
 */
function startStubUpstream(path: string, real: string) {
  const listener = Deno.listen({ transport: "unix", path });
  const served = (async () => {
    for await (const conn of listener) {
      // As the Python daemon reads (contract §2.3): the first full JSON ends the request.
      const chunks: Uint8Array[] = [];
      const buf = new Uint8Array(65536);
      let req: Record<string, unknown> | undefined;
      for (let i = 0; i < 10_000 && req === undefined; i++) {
        const n = await conn.read(buf);
        if (n !== null) chunks.push(buf.slice(0, n));
        try {
          req = JSON.parse(new TextDecoder().decode(concatBytes(chunks)));
        } catch (err) {
          if (n === null) throw err;
        }
      }
      if (req === undefined) throw new Error("stub: no request");
      const reply = await rawJson(real, req);
      const res = reply.result as Record<string, unknown> | undefined;
      if (req.function === "ping" && res) res.python_version = "3.11.7 (main, Python daemon)";
      if (req.function === "echo" && res && "wrong" in res) res.wrong = "python said otherwise";
      const out = new TextEncoder().encode(JSON.stringify(reply));
      let off = 0;
      while (off < out.length) off += await conn.write(out.subarray(off));
      conn.close();
    }
  })();
  return {
    async close() {
      listener.close();
      await served.catch(() => {});
    },
  };
}

Deno.test("proxy forwards byte for byte and captures; replay sorts replies into identical, equivalent, different, skipped", async () => {
  await using real = await startTestDaemon();
  const dir = await Deno.makeTempDir({ prefix: "capture-" });
  const stub = startStubUpstream(`${dir}/old.sock`, real.socket);
  const capture = `${dir}/capture.jsonl`;
  const proxy = await startProxy({
    upstream: `${dir}/old.sock`,
    socket: `${dir}/new.sock`,
    capture,
  });
  try {
    const via = (req: unknown) => rawCall(proxy.socket, JSON.stringify(req));
    // Clients notice nothing: the proxy's reply is the upstream's, byte for byte.
    const echo = {
      module: "test",
      function: "echo",
      params: { s: "caf\u00e9 \u65e5" },
      request_id: "1_1_1",
    };
    assert.equal(await via(echo), await rawCall(`${dir}/old.sock`, JSON.stringify(echo)));
    await via({ module: "test", function: "echo", params: { wrong: 1 }, request_id: "1_1_2" });
    await via({ module: "test", function: "ping", params: {}, timestamp: 1 });
    await via({
      module: "database",
      function: "connect",
      params: { dsn: "dbi:SQLite:dbname=:memory:", username: "u", password: "Pw-123-secret" },
      request_id: "1_1_3",
    });
    // A raw one-liner client that never half-closes still gets its reply.
    const oneLiner = await rawCall(
      proxy.socket,
      JSON.stringify({ module: "test", function: "echo", params: { n: 1 } }) + "\n",
      { halfClose: false, timeoutMs: 10_000 },
    );
    assert.equal(JSON.parse(oneLiner).success, true);
    await proxy.close();

    const text = await Deno.readTextFile(capture);
    assert.doesNotMatch(text, /Pw-123-secret/);
    const { records } = await readCapture(capture);
    assert.equal(records.length, 5);
    assert.deepEqual(records.map((r) => (r.request as { function: string }).function), [
      "echo",
      "echo",
      "ping",
      "connect",
      "echo",
    ]);
    assert.ok(records.every((r) => r.reply_bytes > 0 && r.ms >= 0 && !r.truncated));

    const r = await replay(capture, real.socket);
    const t = (n: string) => r.byFunction.get(n)!;
    assert.deepEqual(
      { ...t("test.echo"), examples: t("test.echo").examples.length },
      { identical: 2, equivalent: 0, different: 1, skipped: 0, examples: 1 },
    );
    assert.equal(t("test.echo").examples[0]!.path, "$.result.wrong");
    assert.equal(t("test.ping").equivalent, 1);
    assert.equal(t("database.connect").skipped, 1);
    assert.match(formatReplay(r), /^test\.echo\s+2\s+0\s+1\s+0$/m);

    const all = await replay(capture, real.socket, { all: true });
    assert.equal(all.byFunction.get("database.connect")!.skipped, 0);

    const cli = await runCli(["replay", capture, "--socket", real.socket]);
    assert.equal(cli.code, 1, cli.stderr); // one difference
    assert.match(cli.stdout, /test\.echo differs at \$\.result\.wrong/);
    const missing = await runCli(["replay", `${dir}/no-such.jsonl`, "--socket", real.socket]);
    assert.equal(missing.code, 66);
    assert.match(missing.stderr, /Cannot read the capture .*no-such\.jsonl/);
  } finally {
    await proxy.close().catch(() => {});
    await stub.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("isReadOnly() follows the registry and the built-ins", () => {
  assert.equal(isReadOnly("test", "ping"), true);
  assert.equal(isReadOnly("system", "shutdown"), false);
  assert.equal(isReadOnly("system", "health"), false); // the daemon's own state: not comparable
  assert.equal(isReadOnly("datetime_helper", "now"), true);
  assert.equal(isReadOnly("database", "connect"), false);
  assert.equal(isReadOnly("no_such_module", "f"), false);
});
