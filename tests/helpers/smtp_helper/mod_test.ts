/**
 * smtp_helper against an smtp-server sink: every wire function, the flat result shapes of helpers
 * contract §3.11, DATA bytes equal to what real Net::SMTP sends for the same chunks, and the
 * failure cases (rejected recipient, refused connection, silent server, server that stops
 * answering mid-message).
 */

import assert from "node:assert/strict";
import { smtpHelper } from "../../../helpers/smtp_helper/mod.ts";
import { makeTestContext } from "../../_support/context.ts";
import type { CallContext } from "../../../helpers/types.ts";
import { closedPort, startSilentServer, startSmtpSink } from "../../_support/smtp_sink.ts";
import { helperFn } from "../../_support/helper_fn.ts";

type R = Record<string, unknown>;

const call = async (ctx: CallContext, f: string, args: R = {}): Promise<R> =>
  await helperFn(smtpHelper, f).run(args, ctx) as R;

const dec = new TextDecoder();

/** Chunks that exercise Net::Cmd's line-end and dot rules, also across chunk boundaries. */
const CHUNKS = [
  "Subject: =?UTF-8?B?R3LDvMOfZQ==?=\n",
  "To: a@example.test\r\n\n",
  ".leading dot\n",
  "..two dots\r\nmid.dle\n.",
  "after a split dot\nline with CR\r",
  "\n.right after CRLF split\n",
  "Grüße ✓ UTF-8\n",
  "no final newline",
];

/** Sends CHUNKS through real Net::SMTP (Perl core) to the sink. */
async function sendWithNetSmtp(port: number): Promise<void> {
  const script = `
    use strict; use Net::SMTP; use JSON::PP;
    my $chunks = JSON::PP->new->decode(scalar <STDIN>); # byte strings
    my $s = Net::SMTP->new("127.0.0.1", Port => ${port}, Timeout => 10) or die "new: $@";
    $s->mail('Sender <from@example.test>') or die "mail";
    $s->to('to@example.test') or die "to";
    $s->data or die "data";
    $s->datasend($_) for @$chunks;
    $s->dataend or die "dataend";
    $s->quit;`;
  const p = new Deno.Command("perl", { args: ["-e", script], stdin: "piped", stderr: "piped" })
    .spawn();
  const w = p.stdin.getWriter();
  // Without ->utf8, JSON::PP keeps the UTF-8 bytes: what a Perl script reading a file holds.
  await w.write(new TextEncoder().encode(JSON.stringify(CHUNKS) + "\n"));
  await w.close();
  const out = await p.output();
  assert.ok(out.success, dec.decode(out.stderr));
}

Deno.test("smtp_helper against smtp-server: every function, bytes equal Net::SMTP's", async (t) => {
  const sink = await startSmtpSink();
  const tc = makeTestContext({ module: "smtp_helper" });
  const { ctx } = tc;
  try {
    await t.step("new, mail, to, data, datasend x n, datasend() ends, quit", async () => {
      const n = await call(ctx, "new", {
        host: sink.host,
        port: sink.port,
        timeout: 5,
        localhost: "client.test",
      });
      assert.equal(n.success, true, String(n.error));
      const id = n.connection_id as string;
      assert.match(id, /^smtp_\d{10}_[0-9a-f]{8}$/);
      assert.equal(n.message, "sink.test ESMTP cpan-bridge test sink");
      assert.equal(
        (await call(ctx, "mail", { connection_id: id, sender: "Sender <from@example.test>" }))
          .success,
        true,
      );
      const rc = await call(ctx, "to", { connection_id: id, recipient: "to@example.test" });
      assert.equal(rc.success, true);
      const info = await call(ctx, "get_connection_info", { connection_id: id });
      assert.equal((info.connection as R).sender, "Sender <from@example.test>");
      assert.deepEqual((info.connection as R).recipients, ["to@example.test"]);
      assert.deepEqual(await call(ctx, "data", { connection_id: id }), {
        success: true,
        message: "354 End data with <CR><LF>.<CR><LF>",
      });
      assert.equal(((await call(ctx, "get_pool_stats")).stats as R).active_connections, 1);
      for (const chunk of CHUNKS) {
        assert.equal(
          (await call(ctx, "datasend", { connection_id: id, data: chunk })).success,
          true,
        );
      }
      const end = await call(ctx, "datasend", { connection_id: id });
      assert.equal(end.success, true, String(end.error));
      assert.match(end.message as string, /^250 /);
      assert.deepEqual(await call(ctx, "quit", { connection_id: id }), {
        success: true,
        message: "221 Bye",
      });
      assert.equal(
        (await call(ctx, "quit", { connection_id: id })).success,
        true,
        "quit is idempotent",
      );
      await sink.waitFor(1);
      const [m] = sink.messages;
      assert.ok(m);
      assert.equal(m.hello, "client.test");
      assert.deepEqual(m.to, ["to@example.test"]);
    });

    await t.step(
      "a second Perl process uses SMTP too, and each sees only its own sessions",
      async () => {
        const other = tc.contextFor((ctx.callerPid ?? 0) + 1);
        const mine = await call(ctx, "new", { host: sink.host, port: sink.port, timeout: 5 });
        const theirs = await call(other, "new", { host: sink.host, port: sink.port, timeout: 5 });
        assert.equal(theirs.success, true, String(theirs.error));
        for (const c of [ctx, other]) {
          assert.equal(((await call(c, "get_pool_stats")).stats as R).active_connections, 1);
        }
        await assert.rejects(
          call(other, "get_connection_info", { connection_id: mine.connection_id }),
          /belongs to another client process/,
        );
        assert.equal(
          (await call(ctx, "quit", { connection_id: mine.connection_id })).success,
          true,
        );
        assert.equal(
          (await call(other, "quit", { connection_id: theirs.connection_id })).success,
          true,
        );
        assert.equal(((await call(other, "get_pool_stats")).stats as R).active_connections, 0);
      },
    );

    await t.step("the DATA bytes are the ones real Net::SMTP sends", async () => {
      await sendWithNetSmtp(sink.port);
      await sink.waitFor(2);
      const [ours, perls] = sink.messages;
      assert.ok(ours && perls);
      assert.equal(dec.decode(ours.raw), dec.decode(perls.raw));
      assert.deepEqual(ours.raw, perls.raw);
      assert.ok(dec.decode(ours.raw).includes("\r\n..leading dot\r\n"));
      assert.ok(dec.decode(ours.raw).endsWith("no final newline\r\n.\r\n"));
      assert.ok(dec.decode(ours.message).includes("Grüße ✓ UTF-8\r\n"));
    });

    await t.step("state errors, rejected recipient, unknown id", async () => {
      const id =
        (await call(ctx, "new", { host: `${sink.host}:${sink.port}`, timeout: 5 })).connection_id;
      assert.deepEqual(await call(ctx, "datasend", { connection_id: id, data: "x" }), {
        success: false,
        error: "Cannot call datasend() in state: connected",
      });
      assert.equal(
        (await call(ctx, "data", { connection_id: id })).error,
        "Cannot call data() before mail() and to()",
      );
      await call(ctx, "mail", { connection_id: id, sender: "from@example.test" });
      const rej = await call(ctx, "to", { connection_id: id, recipient: "reject@example.test" });
      assert.deepEqual(rej, {
        success: false,
        error: "RCPT command failed: 550 <reject@example.test>: Recipient address rejected",
      });
      // The connection survives a refused recipient, as with Net::SMTP.
      assert.equal(
        (await call(ctx, "to", { connection_id: id, recipient: "ok@example.test" })).success,
        true,
      );
      assert.equal((await call(ctx, "data", { connection_id: id })).success, true);
      const empty = await call(ctx, "datasend", { connection_id: id, data: null });
      assert.match(empty.error as string, /^Message send failed: no data to send/);
      await call(ctx, "quit", { connection_id: id });
      assert.deepEqual(await call(ctx, "mail", { connection_id: "smtp_1_deadbeef", sender: "x" }), {
        success: false,
        error: "Invalid connection ID: smtp_1_deadbeef",
      });
    });

    await t.step(
      "a server that stops answering mid-message: timeout, connection dropped",
      async () => {
        const id =
          (await call(ctx, "new", { host: sink.host, port: sink.port, timeout: 1 })).connection_id;
        await call(ctx, "mail", { connection_id: id, sender: "from@example.test" });
        await call(ctx, "to", { connection_id: id, recipient: "to@example.test" });
        await call(ctx, "data", { connection_id: id });
        await call(ctx, "datasend", { connection_id: id, data: "X-Sink: stall\n\nbody\n" });
        const t0 = Date.now();
        const r = await call(ctx, "datasend", { connection_id: id });
        assert.match(
          r.error as string,
          /^reading the reply: no answer from 127\.0\.0\.1:\d+ within 1 s; connection closed; the connection is closed, create a new Net::SMTP object$/,
        );
        assert.ok(Date.now() - t0 < 2500);
        assert.equal(
          (await call(ctx, "get_connection_info", { connection_id: id })).success,
          false,
        );
      },
    );

    await t.step("refused connection and silent server", async () => {
      const r = await call(ctx, "new", { host: "127.0.0.1", port: closedPort(), timeout: 2 });
      assert.match(
        r.error as string,
        /^SMTP connection failed: 127\.0\.0\.1:\d+: Connection refused$/,
      );
      const silent = startSilentServer();
      try {
        const s = await call(ctx, "new", { host: "127.0.0.1", port: silent.port, timeout: 1 });
        assert.match(
          s.error as string,
          /^SMTP connection failed: reading the reply: no answer from 127\.0\.0\.1:\d+ within 1 s/,
        );
      } finally {
        await silent.stop();
      }
      const c = await call(ctx, "cleanup_stale_connections");
      assert.deepEqual(c, { success: true, cleaned: 0, active_connections: 0 });
    });
  } finally {
    await tc.close();
    await sink.stop();
  }
});
