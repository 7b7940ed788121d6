/**
 * openssh against Debian's OpenSSH sshd started by the test: new/scp_put/get_error/disconnect with
 * password and key auth, perm, directory targets, and the failure cases of helpers contract §3.10.
 */

import assert from "node:assert/strict";
import { opensshHelper } from "../../helpers/openssh.ts";
import { makeTestContext } from "../_support/context.ts";
import type { CallContext } from "../../helpers/types.ts";
import { closedPort, startRelay, startSshd } from "../_support/sshd.ts";
import { helperFn } from "../_support/helper_fn.ts";

type R = Record<string, unknown>;
const call = async (ctx: CallContext, f: string, args: R = {}): Promise<R> =>
  await helperFn(opensshHelper, f).run(args, ctx) as R;
const res = (r: R) => r.result as R;

Deno.test("openssh against OpenSSH sshd: scp_put and its failures", async (t) => {
  const sshd = await startSshd();
  const work = await Deno.makeTempDir({ prefix: "cb_openssh_local_" });
  const tc = makeTestContext({ cwd: work, module: "openssh" });
  const ctx: CallContext = { ...tc.ctx, callerEnv: () => Promise.resolve(undefined) };
  const base = { host: sshd.host, port: sshd.port, user: sshd.user, timeout: 10 };
  await Deno.writeTextFile(`${work}/report.txt`, "line 1\nline 2\n");
  try {
    await t.step("password auth: upload with perm, to a directory, relative to home", async () => {
      const n = await call(ctx, "new", { ...base, password: sshd.password, key_path: "" });
      assert.equal(res(n).connected, true, String(res(n).error));
      const id = res(n).connection_id as string;
      assert.match(id, /^[0-9a-f-]{36}$/);
      const p = await call(ctx, "scp_put", {
        connection_id: id,
        local_file: "report.txt",
        remote_file: `${sshd.root}/r.txt`,
        options: { perm: 0o600, umask: 0o22 },
      });
      assert.deepEqual(p, { success: true, result: true });
      const st = await Deno.stat(`${sshd.root}/r.txt`);
      assert.equal(st.mode! & 0o777, 0o600);
      assert.equal(await Deno.readTextFile(`${sshd.root}/r.txt`), "line 1\nline 2\n");
      assert.deepEqual(await call(ctx, "get_error", { connection_id: id }), {
        success: true,
        result: null,
      });
      // A directory target gets the local basename; an octal string perm works too.
      const d = await call(ctx, "scp_put", {
        connection_id: id,
        local_file: `${work}/report.txt`,
        remote_file: sshd.root,
        options: { perm: "0640" },
      });
      assert.equal(d.result, true);
      assert.equal((await Deno.stat(`${sshd.root}/report.txt`)).mode! & 0o777, 0o640);
      assert.deepEqual(await call(ctx, "disconnect", { connection_id: id }), {
        success: true,
        result: true,
      });
      assert.deepEqual(await call(ctx, "disconnect", { connection_id: id }), {
        success: true,
        result: true,
      });
    });

    await t.step("key auth; upload failures go to get_error", async () => {
      const n = await call(ctx, "new", { ...base, key_path: sshd.keyPath });
      assert.equal(res(n).connected, true, String(res(n).error));
      const id = res(n).connection_id;
      const miss = await call(ctx, "scp_put", {
        connection_id: id,
        local_file: "absent.txt",
        remote_file: "x",
      });
      assert.deepEqual(miss, { success: true, result: false });
      assert.equal(
        res(await call(ctx, "get_error", { connection_id: id })) as unknown,
        `Local file not found: ${work}/absent.txt`,
      );
      const bad = await call(ctx, "scp_put", {
        connection_id: id,
        local_file: "report.txt",
        remote_file: "/nonexistent/dir/x",
      });
      assert.equal(bad.result, false);
      assert.match(
        res(await call(ctx, "get_error", { connection_id: id })) as unknown as string,
        /^Upload failed: .* No such file$/,
      );
      const ok = await call(ctx, "scp_put", {
        connection_id: id,
        local_file: "report.txt",
        remote_file: `${sshd.root}/k.txt`,
      });
      assert.equal(ok.result, true);
      assert.equal(
        res(await call(ctx, "get_error", { connection_id: id })) as unknown,
        null,
        "cleared on success",
      );
      await call(ctx, "cleanup_connection", { connection_id: id });
    });

    await t.step(
      "wrong password, missing key, no auth, refused: connected false + get_error",
      async () => {
        const cases: [R, RegExp][] = [
          [
            { ...base, password: "wrong" },
            /^Unable to connect to cbtest@127\.0\.0\.1:\d+: Authentication failed for cbtest@127\.0\.0\.1 \(tried password\)$/,
          ],
          [{ ...base, key_path: "missing_key" }, /^Key file not found: .*\/missing_key$/],
          [{ ...base, key_path: "0" }, /No authentication method provided/],
          [{ ...base, port: closedPort(), password: "x" }, /: Connection refused$/],
        ];
        for (const [args, re] of cases) {
          const n = await call(ctx, "new", args);
          assert.equal(n.success, true);
          assert.equal(res(n).connected, false);
          const id = res(n).connection_id;
          assert.match(
            res(await call(ctx, "get_error", { connection_id: id })) as unknown as string,
            re,
          );
          const p = await call(ctx, "scp_put", {
            connection_id: id,
            local_file: "report.txt",
            remote_file: "x",
          });
          assert.equal(p.result, false);
          assert.match(
            res(await call(ctx, "get_error", { connection_id: id })) as unknown as string,
            /^Not connected to /,
          );
        }
        assert.deepEqual(await call(ctx, "new", { host: sshd.host }), {
          success: false,
          error: "Net::OpenSSH: host and user are required",
        });
      },
    );

    await t.step("a server that dies mid-transfer", async () => {
      const relay = startRelay(sshd.port);
      try {
        const n = await call(ctx, "new", {
          ...base,
          port: relay.port,
          password: sshd.password,
          timeout: 1,
        });
        const id = res(n).connection_id;
        await Deno.writeFile(`${work}/big.bin`, new Uint8Array(2_000_000));
        const up = call(ctx, "scp_put", {
          connection_id: id,
          local_file: "big.bin",
          remote_file: `${sshd.root}/big.bin`,
        });
        relay.freeze();
        const r = await up;
        assert.equal(r.result, false);
        assert.match(
          res(await call(ctx, "get_error", { connection_id: id })) as unknown as string,
          /^Upload failed: .*no answer from 127\.0\.0\.1:\d+ within 1 s/,
        );
      } finally {
        await relay.stop();
      }
    });
  } finally {
    await tc.close();
    await sshd.stop();
    await Deno.remove(work, { recursive: true });
  }
});
