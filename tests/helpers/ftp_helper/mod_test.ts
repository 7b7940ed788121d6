/**
 * ftp_helper against a real vsftpd (Debian) and scripted fake servers: every wire function, the
 * flat result shapes of helpers contract §3.6, ASCII-mode line ends, and the failure cases.
 */

import assert from "node:assert/strict";
import { ftpHelper } from "../../../helpers/ftp_helper/mod.ts";
import { makeTestContext } from "../../_support/context.ts";
import type { CallContext } from "../../../helpers/types.ts";
import {
  FTP_PASS,
  FTP_USER,
  startSilentServer,
  startStallingServer,
  startVsftpd,
} from "../../_support/ftp_server.ts";
import { helperFn } from "../../_support/helper_fn.ts";

type R = Record<string, unknown>;

const call = async (ctx: CallContext, f: string, args: R = {}): Promise<R> =>
  await helperFn(ftpHelper, f).run(args, ctx) as R;

const enc = new TextEncoder();

Deno.test("ftp_helper against vsftpd: every function and its flat result", async (t) => {
  const server = await startVsftpd();
  const work = await Deno.makeTempDir({ prefix: "cb_ftp_local_" });
  const tc = makeTestContext({ cwd: work, module: "ftp_helper" });
  const { ctx } = tc;
  try {
    const opened = await call(ctx, "new", { host: `${server.host}:${server.port}`, timeout: 10 });
    assert.equal(opened.success, true, String(opened.error));
    const id = opened.connection_id as string;
    assert.match(id, /^ftp_\d{10}_[0-9a-f]{8}$/);

    await t.step(
      "new() takes passive mode from the caller's FTP_PASSIVE, as Net::FTP",
      async () => {
        for (const [env, want] of [["0", 0], ["1", 1], [undefined, 1], ["x", 0]] as const) {
          const c = {
            ...ctx,
            callerEnv: (n: string) => Promise.resolve(n === "FTP_PASSIVE" ? env : undefined),
          };
          const o = await call(c, "new", { host: `${server.host}:${server.port}`, timeout: 10 });
          const info = await call(c, "get_connection_info", { connection_id: o.connection_id });
          assert.equal(info.passive, want, `FTP_PASSIVE=${env}`);
          await call(c, "quit", { connection_id: o.connection_id });
        }
      },
    );

    await t.step("login with a wrong password fails with the server's reply", async () => {
      const bad = await call(ctx, "new", { host: server.host, port: server.port, timeout: 10 });
      const r = await call(ctx, "login", {
        connection_id: bad.connection_id,
        user: FTP_USER,
        password: "wrong",
      });
      assert.deepEqual(r, { success: false, error: "Login failed: 530 Login incorrect." });
      assert.equal(
        (await call(ctx, "message", { connection_id: bad.connection_id })).message,
        "Login incorrect.\n",
      );
      assert.deepEqual(await call(ctx, "quit", { connection_id: bad.connection_id }), {
        success: true,
      });
    });

    await t.step("login, pwd, mkdir, cwd", async () => {
      const r = await call(ctx, "login", { connection_id: id, user: FTP_USER, password: FTP_PASS });
      assert.deepEqual(r, { success: true, message: "Login successful.\n" });
      const p = await call(ctx, "pwd", { connection_id: id });
      assert.equal(p.directory, server.root);
      const m = await call(ctx, "mkdir", { connection_id: id, directory: "sub" });
      assert.equal(m.success, true);
      assert.equal(m.directory, "sub", "Net::FTP returns the directory as given");
      const deep = await call(ctx, "mkdir", {
        connection_id: id,
        directory: "sub/a/b",
        recurse: 1,
      });
      assert.equal(deep.success, true, String(deep.error));
      assert.ok((await Deno.stat(`${server.root}/sub/a/b`)).isDirectory);
      assert.equal((await call(ctx, "cwd", { connection_id: id, directory: "sub" })).success, true);
      assert.equal((await call(ctx, "pwd", { connection_id: id })).directory, `${server.root}/sub`);
      assert.equal((await call(ctx, "cwd", { connection_id: id, directory: ".." })).success, true);
      const bad = await call(ctx, "cwd", { connection_id: id, directory: "/no/such/dir" });
      assert.deepEqual(bad, {
        success: false,
        error: "Directory change failed: 550 Failed to change directory.",
      });
    });

    await t.step(
      "put/get in binary mode are byte-exact; relative local paths use the caller's cwd",
      async () => {
        const info = await call(ctx, "get_connection_info", { connection_id: id });
        assert.equal(info.transfer_mode, "ascii", "Net::FTP starts in ASCII mode");
        assert.equal((await call(ctx, "binary", { connection_id: id })).success, true);
        const bytes = new Uint8Array(200_000);
        for (let i = 0; i < bytes.length; i += 65536) {
          crypto.getRandomValues(bytes.subarray(i, i + 65536));
        }
        bytes.set(enc.encode("a\r\nb\nc"), 0);
        await Deno.writeFile(`${work}/blob.bin`, bytes);
        const up = await call(ctx, "put", { connection_id: id, local_file: "blob.bin" });
        assert.deepEqual(up, {
          success: true,
          message: "Transfer complete.\n",
          remote_file: "blob.bin",
        });
        assert.deepEqual(await Deno.readFile(`${server.root}/blob.bin`), bytes);
        const down = await call(ctx, "get", {
          connection_id: id,
          remote_file: "blob.bin",
          local_file: "copy.bin",
        });
        assert.deepEqual(down, {
          success: true,
          message: "Transfer complete.\n",
          local_file: "copy.bin",
        });
        assert.deepEqual(await Deno.readFile(`${work}/copy.bin`), bytes);
        const sz = await call(ctx, "size", { connection_id: id, remote_file: "blob.bin" });
        assert.equal(sz.size, 200_000);
        const mt = await call(ctx, "mdtm", { connection_id: id, remote_file: "blob.bin" });
        const st = await Deno.stat(`${server.root}/blob.bin`);
        assert.equal(mt.mdtm, Math.floor(st.mtime!.getTime() / 1000));
      },
    );

    await t.step("ASCII mode: LF becomes CRLF on the wire and back to LF locally", async () => {
      assert.deepEqual(await call(ctx, "ascii", { connection_id: id }), {
        success: true,
        message: "Switching to ASCII mode.\n",
      });
      await Deno.writeTextFile(`${work}/text.txt`, "one\ntwo\r\nthree\n");
      assert.equal(
        (await call(ctx, "put", { connection_id: id, local_file: "text.txt" })).success,
        true,
      );
      // vsftpd (ascii_upload_enable) stores CRLF as LF: proves the client sent CRLF everywhere.
      assert.equal(await Deno.readTextFile(`${server.root}/text.txt`), "one\ntwo\nthree\n");
      await Deno.writeTextFile(`${server.root}/dos.txt`, "x\r\ny\n");
      assert.equal(
        (await call(ctx, "get", { connection_id: id, remote_file: "dos.txt" })).success,
        true,
      );
      assert.equal(await Deno.readTextFile(`${work}/dos.txt`), "x\ny\n");
      assert.equal(
        (await call(ctx, "get_connection_info", { connection_id: id })).transfer_mode,
        "ascii",
      );
      assert.equal(
        (await call(ctx, "binary", { connection_id: id })).message,
        "Switching to Binary mode.\n",
      );
    });

    await t.step(
      "dir returns raw LIST lines, ls returns names; active mode works too",
      async () => {
        const d = await call(ctx, "dir", { connection_id: id });
        const listing = d.listing as string[];
        assert.ok(listing.some((l) => /^-rw-r--r-- .* blob\.bin$/.test(l)), listing.join("\n"));
        assert.ok(listing.some((l) => /^d.* sub$/.test(l)));
        const ls = await call(ctx, "ls", { connection_id: id, path: "" });
        assert.deepEqual((ls.listing as string[]).toSorted(), [
          "blob.bin",
          "dos.txt",
          "sub",
          "text.txt",
        ]);
        assert.deepEqual(await call(ctx, "passive", { connection_id: id, passive: 0 }), {
          success: true,
          passive: 0,
        });
        const active = await call(ctx, "ls", { connection_id: id, path: "sub" });
        assert.deepEqual(active.listing, ["sub/a"]);
        assert.equal((await call(ctx, "passive", { connection_id: id, passive: 1 })).passive, 1);
      },
    );

    await t.step("rename, delete, rmdir and their failures", async () => {
      assert.deepEqual(
        await call(ctx, "rename", { connection_id: id, old_name: "text.txt", new_name: "t2.txt" }),
        {
          success: true,
          message: "Rename successful.\n",
        },
      );
      const r = await call(ctx, "rename", { connection_id: id, old_name: "nope", new_name: "x" });
      assert.deepEqual(r, { success: false, error: "Rename failed: 550 RNFR command failed." });
      assert.equal(
        (await call(ctx, "delete", { connection_id: id, remote_file: "t2.txt" })).success,
        true,
      );
      const d = await call(ctx, "delete", { connection_id: id, remote_file: "t2.txt" });
      assert.deepEqual(d, { success: false, error: "Delete failed: 550 Delete operation failed." });
      assert.equal(
        (await call(ctx, "rmdir", { connection_id: id, directory: "sub/a/b" })).success,
        true,
      );
      assert.equal(
        (await call(ctx, "rmdir", { connection_id: id, directory: "sub" })).success,
        false,
      );
    });

    await t.step("get of a missing remote file fails and leaves no local file", async () => {
      const r = await call(ctx, "get", { connection_id: id, remote_file: "missing.txt" });
      assert.deepEqual(r, { success: false, error: "Download failed: 550 Failed to open file." });
      await assert.rejects(Deno.stat(`${work}/missing.txt`), Deno.errors.NotFound);
      await Deno.writeTextFile(`${work}/keep.txt`, "mine");
      const keep = await call(ctx, "get", {
        connection_id: id,
        remote_file: "missing.txt",
        local_file: "keep.txt",
      });
      assert.equal(keep.success, false);
      assert.equal(
        await Deno.readTextFile(`${work}/keep.txt`),
        "mine",
        "an existing local file survives",
      );
      const noDir = await call(ctx, "get", {
        connection_id: id,
        remote_file: "dos.txt",
        local_file: "no/such/dir/x",
      });
      assert.match(
        String(noDir.error),
        /^Download failed: cannot open local file .*no\/such\/dir\/x: No such file/,
      );
      assert.equal(
        (await call(ctx, "pwd", { connection_id: id })).success,
        true,
        "the session is still usable",
      );
      const p = await call(ctx, "put", { connection_id: id, local_file: "no_such_local.txt" });
      assert.deepEqual(p, {
        success: false,
        error: `Local file not found: ${work}/no_such_local.txt`,
      });
    });

    await t.step("diagnostics: connection info, pool stats, stale cleanup", async () => {
      const info = await call(ctx, "get_connection_info", { connection_id: id });
      assert.equal(info.state, "logged_in");
      assert.equal(info.host, `${server.host}:${server.port}`);
      assert.equal(typeof info.age, "number");
      const stats = await call(ctx, "get_pool_stats");
      assert.deepEqual(stats, {
        success: true,
        total_connections: 1,
        connected: 0,
        logged_in: 1,
        connection_ids: [id],
      });
      const other = tc.contextFor((ctx.callerPid ?? 0) + 1);
      assert.deepEqual(await call(other, "get_pool_stats"), {
        success: true,
        total_connections: 0,
        connected: 0,
        logged_in: 0,
        connection_ids: [],
      }, "another Perl process does not see this one's connection ids");
      assert.deepEqual(await call(ctx, "cleanup_stale_connections"), { success: true, removed: 0 });
      assert.deepEqual(await call(ctx, "pwd", { connection_id: "ftp_1_deadbeef" }), {
        success: false,
        error: "Invalid connection ID: ftp_1_deadbeef",
      });
    });

    await t.step("quit closes the session and is idempotent", async () => {
      assert.deepEqual(await call(ctx, "quit", { connection_id: id }), { success: true });
      assert.deepEqual(await call(ctx, "quit", { connection_id: id }), { success: true });
      assert.equal((await call(ctx, "get_pool_stats")).total_connections, 0);
    });
  } finally {
    await tc.close();
    await server.stop();
    await Deno.remove(work, { recursive: true });
  }
});

Deno.test("ftp_helper new() on a refused port fails at once with the OS reason", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const tc = makeTestContext();
  try {
    const r = await call(tc.ctx, "new", { host: "127.0.0.1", port, timeout: 5 });
    assert.equal(r.success, false);
    assert.match(
      String(r.error),
      new RegExp(`^Connection failed: 127\\.0\\.0\\.1:${port}: .*refused`, "i"),
    );
  } finally {
    await tc.close();
  }
});

Deno.test("ftp_helper new() on a silent server times out without blocking other sessions", async () => {
  const silent = startSilentServer();
  const server = await startVsftpd();
  const tc = makeTestContext();
  try {
    const good = await call(tc.ctx, "new", { host: server.host, port: server.port, timeout: 10 });
    const started = Date.now();
    const slow = call(tc.ctx, "new", { host: silent.host, port: silent.port, timeout: 2 });
    const quick = await call(tc.ctx, "login", {
      connection_id: good.connection_id,
      user: FTP_USER,
      password: FTP_PASS,
    });
    assert.equal(quick.success, true);
    assert.ok(Date.now() - started < 1500, "another session was held up by the silent server");
    const r = await slow;
    const took = Date.now() - started;
    assert.deepEqual(r, {
      success: false,
      error:
        `Connection failed: 127.0.0.1:${silent.port}: Timed out after 2 s waiting for the server greeting`,
    });
    assert.ok(took >= 1900 && took < 4000, `timeout took ${took} ms`);
    await call(tc.ctx, "quit", { connection_id: good.connection_id });
  } finally {
    await tc.close();
    await server.stop();
    await silent.stop();
  }
});

Deno.test("ftp_helper get() from a server that stalls mid-transfer times out and removes the partial file", async () => {
  const stall = startStallingServer(5000);
  const work = await Deno.makeTempDir({ prefix: "cb_ftp_stall_" });
  const tc = makeTestContext({ cwd: work });
  try {
    const s = await call(tc.ctx, "new", { host: stall.host, port: stall.port, timeout: 1 });
    const id = s.connection_id;
    assert.equal(
      (await call(tc.ctx, "login", { connection_id: id, user: "u", password: "p" })).success,
      true,
    );
    const r = await call(tc.ctx, "get", { connection_id: id, remote_file: "big.bin" });
    assert.deepEqual(r, {
      success: false,
      error: "Download failed: Timed out after 1 s receiving data",
    });
    await assert.rejects(Deno.stat(`${work}/big.bin`), Deno.errors.NotFound);
    const after = await call(tc.ctx, "pwd", { connection_id: id });
    assert.equal(after.success, false);
    assert.match(
      String(after.error),
      /^PWD error: not connected to 127\.0\.0\.1 \(data transfer failed: Timed out/,
    );
    assert.equal(
      (await call(tc.ctx, "get_connection_info", { connection_id: id })).state,
      "closed",
    );
    assert.deepEqual(await call(tc.ctx, "quit", { connection_id: id }), { success: true });
  } finally {
    await tc.close();
    await stall.stop();
    await Deno.remove(work, { recursive: true });
  }
});

Deno.test("ftp_helper sessions expire after the idle TTL and the password never reaches the log", async () => {
  const server = await startVsftpd();
  let now = Date.now();
  const clock = { now: () => now };
  const tc = makeTestContext({ clock });
  try {
    const s = await call(tc.ctx, "new", {
      host: server.host,
      port: server.port,
      timeout: 10,
      debug: 1,
    });
    await call(tc.ctx, "login", {
      connection_id: s.connection_id,
      user: FTP_USER,
      password: FTP_PASS,
    });
    now += 301_000;
    assert.deepEqual(await call(tc.ctx, "cleanup_stale_connections"), {
      success: true,
      removed: 1,
    });
    assert.equal((await call(tc.ctx, "get_pool_stats")).total_connections, 0);
    assert.ok(tc.logs.some((l) => l.includes("PASS ....")), tc.logs.join("\n"));
    assert.ok(!tc.logs.some((l) => l.includes(FTP_PASS)));
  } finally {
    await tc.close();
    await server.stop();
  }
});
