/**
 * email_helper against an smtp-server sink, messages decoded with mailparser: send_simple,
 * send_multipart (attachments, encodings, headers, UTF-8), send_with_file, send_email,
 * send_html_email, validate_email, and the failures (missing attachment, refused connection,
 * silent server, rejected recipient, wrong AUTH password, server that stops mid-message).
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { simpleParser } from "mailparser";
import { emailHelper } from "../../helpers/email_helper.ts";
import { makeTestContext } from "../_support/context.ts";
import type { CallContext } from "../../helpers/types.ts";
import { closedPort, startSilentServer, startSmtpSink } from "../_support/smtp_sink.ts";
import { helperFn } from "../_support/helper_fn.ts";

type R = Record<string, unknown>;
const call = async (ctx: CallContext, f: string, args: R = {}): Promise<R> =>
  await helperFn(emailHelper, f).run(args, ctx) as R;
const dec = new TextDecoder();

Deno.test("email_helper against smtp-server: every function and its failures", async (t) => {
  const sink = await startSmtpSink({ users: { mailer: "mail-pw" } });
  const work = await Deno.makeTempDir({ prefix: "cb_mail_" });
  const tc = makeTestContext({ cwd: work, module: "email_helper" });
  const { ctx } = tc;
  const base = { smtp_host: sink.host, smtp_port: sink.port, from: "Sender <from@example.test>" };
  try {
    await t.step("send_simple: plain text, UTF-8 subject and body, dot at line start", async () => {
      const r = await call(ctx, "send_simple", {
        ...base,
        to: "a@example.test, b@example.test",
        subject: "Grüße from the job",
        msg: "line 1\n.dot line\nÄrger ✓\n",
      });
      assert.equal(r.success, true, String(r.error));
      assert.equal(r.status, "sent");
      assert.deepEqual(r.accepted, ["a@example.test", "b@example.test"]);
      await sink.waitFor(1);
      const m = sink.messages[0];
      assert.ok(m);
      assert.deepEqual(m.to, ["a@example.test", "b@example.test"]);
      assert.ok(!/(?<!\r)\n/.test(dec.decode(m.raw)), "only CRLF line ends on the wire");
      const p = await simpleParser(Buffer.from(m.message));
      assert.equal(p.subject, "Grüße from the job");
      assert.equal(p.text, "line 1\n.dot line\nÄrger ✓\n");
    });

    await t.step(
      "send_multipart: attachments with ctype, encoding, description, name; headers",
      async () => {
        const bin = new Uint8Array(5000).map((_, i) => (i * 7) % 256);
        await Deno.writeFile(`${work}/data.bin`, bin);
        await Deno.writeTextFile(`${work}/report.csv`, "a;b\n1;2\n");
        const r = await call(ctx, "send_multipart", {
          ...base,
          to: ["c@example.test"],
          subject: "Report",
          body: "See attached.\n",
          body_encoding: "quoted-printable",
          headers: { "X-Job": "nightly-42" },
          multipart_type: "mixed",
          attachments: [
            {
              file: "data.bin",
              ctype: "application/octet-stream",
              encoding: "Base64",
              name: "daten-ä.bin",
            },
            {
              file: `${work}/report.csv`,
              ctype: "text/csv",
              encoding: "7bit",
              description: "the numbers",
              disposition: 'attachment; filename="r.csv"',
            },
          ],
        });
        assert.equal(r.success, true, String(r.error));
        await sink.waitFor(2);
        const sent = sink.messages[1];
        assert.ok(sent);
        const raw = dec.decode(sent.message);
        assert.match(raw, /^X-Job: nightly-42\r$/m);
        assert.match(raw, /^Content-Description: the numbers\r$/m);
        assert.match(raw, /^Content-Transfer-Encoding: quoted-printable\r$/m);
        const p = await simpleParser(Buffer.from(sent.message));
        assert.equal(p.text, "See attached.\n");
        const [bytes, csv, ...more] = p.attachments;
        assert.ok(bytes && csv && more.length === 0, `2 attachments, not ${p.attachments.length}`);
        assert.equal(bytes.filename, "daten-ä.bin");
        assert.deepEqual(new Uint8Array(bytes.content), bin);
        assert.equal(csv.filename, "r.csv");
        assert.equal(csv.contentType, "text/csv");
        // 7bit text goes out in canonical form (CRLF), as MIME requires.
        assert.equal(csv.content.toString(), "a;b\r\n1;2\r\n");
      },
    );

    await t.step("send_with_file, send_email, send_html_email, validate_email", async () => {
      await Deno.writeTextFile(`${work}/log.txt`, "done\n");
      const f = await call(ctx, "send_with_file", {
        ...base,
        to: "d@example.test",
        subject: "log",
        msg: "attached",
        file: "log.txt",
      });
      assert.equal(f.success, true, String(f.error));
      const e = await call(ctx, "send_email", {
        ...base,
        to: "e@example.test",
        subject: "plain",
        body: "hi",
      });
      assert.equal(e.success, true, String(e.error));
      const h = await call(ctx, "send_html_email", {
        ...base,
        to: "f@example.test",
        subject: "html",
        html: "<p>hi</p>",
      });
      assert.equal(h.success, true, String(h.error));
      await sink.waitFor(5);
      const [pf, pe, ph] = await Promise.all(
        sink.messages.slice(2, 5).map((m) => simpleParser(Buffer.from(m.message))),
      );
      assert.ok(pf && pe && ph);
      const log = pf.attachments[0];
      assert.ok(log);
      assert.equal(log.filename, "log.txt");
      assert.equal(log.contentType, "text/plain");
      assert.equal(pe.text?.trimEnd(), "hi");
      assert.equal((ph.html as string).trimEnd(), "<p>hi</p>");
      assert.deepEqual(await call(ctx, "validate_email", { email: "x.y@example.test" }), {
        success: true,
        valid: true,
        email: "x.y@example.test",
      });
      assert.equal((await call(ctx, "validate_email", { email: "not an address" })).valid, false);
    });

    await t.step("AUTH with Mail::Sender's authid/authpwd; a wrong password", async () => {
      const ok = await call(ctx, "send_simple", {
        ...base,
        to: "g@example.test",
        subject: "s",
        msg: "m",
        authid: "mailer",
        authpwd: "mail-pw",
      });
      assert.equal(ok.success, true, String(ok.error));
      await sink.waitFor(6);
      assert.equal(sink.messages[5]?.user, "mailer");
      const bad = await call(ctx, "send_simple", {
        ...base,
        to: "g@example.test",
        subject: "s",
        msg: "m",
        authid: "mailer",
        authpwd: "wrong",
      });
      assert.deepEqual(bad, {
        success: false,
        error: `Cannot send mail via ${sink.host}:${sink.port}: authentication failed (535)`,
        status: "failed",
      });
      assert.ok(
        !tc.logs.some((l) => l.includes("mail-pw") || l.includes("wrong")),
        "no password in the log",
      );
    });

    await t.step(
      "failures: missing attachment, refused, silent, rejected recipient, stalled DATA",
      async () => {
        const miss = await call(ctx, "send_with_file", {
          ...base,
          to: "h@example.test",
          subject: "s",
          msg: "m",
          file: "nope.pdf",
        });
        assert.deepEqual(miss, {
          success: false,
          error: `Cannot read attachment ${work}/nope.pdf: No such file or directory`,
        });
        const refused = await call(ctx, "send_simple", {
          ...base,
          smtp_port: closedPort(),
          to: "h@example.test",
          subject: "s",
          msg: "m",
        });
        assert.match(
          refused.error as string,
          /^Cannot send mail via 127\.0\.0\.1:\d+: Connection refused$/,
        );
        const silent = startSilentServer();
        try {
          const t0 = Date.now();
          const s = await call(ctx, "send_simple", {
            ...base,
            smtp_port: silent.port,
            to: "h@example.test",
            subject: "s",
            msg: "m",
            timeout: 1,
          });
          assert.equal(s.success, false);
          assert.match(s.error as string, /Greeting never received|timeout/i);
          assert.ok(Date.now() - t0 < 3000);
        } finally {
          await silent.stop();
        }
        const rej = await call(ctx, "send_simple", {
          ...base,
          to: "reject@example.test",
          subject: "s",
          msg: "m",
        });
        assert.equal(rej.success, false);
        assert.match(rej.error as string, /Recipient address rejected/);
        const t0 = Date.now();
        const stall = await call(ctx, "send_multipart", {
          ...base,
          to: "h@example.test",
          subject: "s",
          body: "m",
          headers: { "X-Sink": "stall" },
          timeout: 1,
        });
        assert.equal(stall.success, false);
        assert.match(stall.error as string, /timeout/i);
        assert.ok(Date.now() - t0 < 3000);
        assert.equal(
          (await call(ctx, "send_simple", { ...base, subject: "s", msg: "m" })).error,
          "No recipient: give 'to'",
        );
      },
    );
  } finally {
    await tc.close();
    await sink.stop();
    await Deno.remove(work, { recursive: true });
  }
});
