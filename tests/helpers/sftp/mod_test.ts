/**
 * sftp against Debian's OpenSSH sshd started by the test: every wire function with password and
 * key authentication, the wrapped result shapes of helpers contract §3.12, the host key policy,
 * and the failure cases (wrong password, refused connection, silent server, server that stops
 * mid-transfer, missing remote file).
 */

import assert from "node:assert/strict";
import { perlRegex, sftpHelper } from "../../../helpers/sftp/mod.ts";
import { makeTestContext } from "../../_support/context.ts";
import type { CallContext } from "../../../helpers/types.ts";
import { closedPort, startRelay, startSilentServer, startSshd } from "../../_support/sshd.ts";
import { helperFn } from "../../_support/helper_fn.ts";

type R = Record<string, unknown>;
const call = async (ctx: CallContext, f: string, args: R = {}): Promise<R> =>
  await helperFn(sftpHelper, f).run(args, ctx) as R;
const res = (r: R) => r.result as R;

/** A context whose caller has HOME=`home` (for known_hosts and default keys). */
function withHome(ctx: CallContext, home: string): CallContext {
  return { ...ctx, callerEnv: (n: string) => Promise.resolve(n === "HOME" ? home : undefined) };
}

Deno.test("perlRegex() reads stringified qr// with flags, and falls back to substrings", () => {
  assert.equal(perlRegex("(?^:\\.txt$)")("a.txt"), true);
  assert.equal(perlRegex("(?^:\\.txt$)")("a.TXT"), false);
  assert.equal(perlRegex("(?^i:\\.txt$)")("a.TXT"), true);
  assert.equal(perlRegex("^data_\\d+")("data_12.csv"), true);
  assert.equal(perlRegex("\\Areport")("report.pdf"), true);
  assert.equal(perlRegex("(?<=x")("a(?<=xb"), true); // invalid regex: substring
});

Deno.test("perlRegex() matches character names with Perl's Unicode \\w, \\d, \\b and \\x{}", () => {
  // Each expectation is what Perl 5.36 gives for the same qr// on the same decoded name.
  const names = ["café.txt", "wide_日本.txt", "a-b.txt", "x]y", "L2.txt", "0"];
  const cases: Array<[string, string[]]> = [
    ["(?^:^\\w+\\.txt$)", ["café.txt", "wide_日本.txt", "L2.txt"]],
    ["(?^:^[^\\W\\d]{4}_)", ["wide_日本.txt"]],
    ["(?^u:\\x{65e5})", ["wide_日本.txt"]],
    ["(?^:[a-z_.-]+)", ["café.txt", "wide_日本.txt", "a-b.txt", "x]y", "L2.txt"]],
    ["(?^:^[]x]+)", ["x]y"]],
    ["(?^:\\-)", ["a-b.txt"]],
    ["(?^:\\bb\\b)", ["a-b.txt"]],
    ["(?^:a{)", []],
    ["(?^:[\\w-]+\\.txt)", ["café.txt", "wide_日本.txt", "a-b.txt", "L2.txt"]],
  ];
  for (const [re, want] of cases) assert.deepEqual(names.filter(perlRegex(re)), want, re);
});

Deno.test("sftp against OpenSSH sshd: every function, password and key auth", async (t) => {
  const sshd = await startSshd();
  const work = await Deno.makeTempDir({ prefix: "cb_sftp_local_" });
  const home = await Deno.makeTempDir({ prefix: "cb_sftp_home_" });
  const tc = makeTestContext({ cwd: work, module: "sftp" });
  const ctx = withHome(tc.ctx, home);
  const base = { host: sshd.host, port: sshd.port, user: sshd.user, timeout: 10 };
  try {
    const opened = await call(ctx, "new", { ...base, password: sshd.password });
    assert.equal(opened.success, true, String(opened.error));
    const r0 = res(opened);
    const id = r0.session_id as string;
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(r0.initial_dir, `/home/${sshd.user}`);
    assert.ok(
      tc.logs.some((l) => /warn: .*not in known_hosts; accepting its host key SHA256:/.test(l)),
    );
    assert.ok(!tc.logs.some((l) => l.includes(sshd.password)), "the password is never logged");

    await t.step("setcwd, cwd, mkdir, put (creating parents), ls with wanted, get", async () => {
      const sc = await call(ctx, "setcwd", { session_id: id, remote_dir: sshd.root });
      assert.deepEqual(sc, { success: true, result: { current_dir: sshd.root } });
      assert.deepEqual(await call(ctx, "cwd", { session_id: id }), {
        success: true,
        result: sshd.root,
      });
      const mk = await call(ctx, "mkdir", { session_id: id, remote_dir: "in" });
      assert.equal(res(mk).remote_dir, `${sshd.root}/in`);
      const data = new Uint8Array(300_000).map((_, i) => (i * 31) % 251);
      await Deno.writeFile(`${work}/big.bin`, data);
      const p = await call(ctx, "put", {
        session_id: id,
        local_file: "big.bin",
        remote_file: "in/sub/big.bin",
      });
      assert.deepEqual(p, {
        success: true,
        result: {
          local_file: `${work}/big.bin`,
          remote_file: `${sshd.root}/in/sub/big.bin`,
          bytes_transferred: 300_000,
        },
      });
      await Deno.writeTextFile(`${work}/a.txt`, "hello\n");
      assert.equal(
        (await call(ctx, "put", {
          session_id: id,
          local_file: `${work}/a.txt`,
          remote_file: "in/a.txt",
        })).success,
        true,
      );
      const all = await call(ctx, "ls", { session_id: id, remote_dir: "in" });
      const names = (all.result as R[]).map((e) => e.filename).sort();
      assert.deepEqual(names, [".", "..", "a.txt", "sub"]);
      const only = await call(ctx, "ls", {
        session_id: id,
        remote_dir: "in",
        wanted: "(?^i:\\.TXT$)",
      });
      const [e, ...more] = only.result as R[];
      assert.ok(e && more.length === 0, JSON.stringify(only.result));
      assert.equal(e.filename, "a.txt");
      assert.equal(e.size, 6);
      assert.equal(e.is_dir, false);
      assert.match(e.longname as string, /^-rw-r--r-- .* a\.txt$/);
      assert.equal((e.a as R).size, 6);
      const g = await call(ctx, "get", {
        session_id: id,
        remote_file: "in/sub/big.bin",
        local_file: "copy.bin",
      });
      assert.equal(g.success, true, String(g.error));
      assert.equal(res(g).local_file, `${work}/copy.bin`);
      assert.deepEqual(await Deno.readFile(`${work}/copy.bin`), data);
      // Default local name: the remote basename in the caller's cwd.
      await call(ctx, "get", { session_id: id, remote_file: `${sshd.root}/in/a.txt` });
      assert.equal(await Deno.readTextFile(`${work}/a.txt`), "hello\n");
    });

    await t.step("rename with and without overwrite, remove", async () => {
      await call(ctx, "put", { session_id: id, local_file: "a.txt", remote_file: "in/b.txt" });
      const no = await call(ctx, "rename", {
        session_id: id,
        old_name: "in/a.txt",
        new_name: "in/b.txt",
      });
      assert.equal(no.success, false);
      assert.match(
        no.error as string,
        /^Couldn't rename remote file '.*\/in\/a\.txt' to '.*\/in\/b\.txt': Failure$/,
      );
      assert.equal(res(await call(ctx, "error", { session_id: id })) as unknown, no.error);
      const yes = await call(ctx, "rename", {
        session_id: id,
        old_name: "in/a.txt",
        new_name: "in/b.txt",
        overwrite: 1,
      });
      assert.deepEqual(yes, {
        success: true,
        result: {
          old_name: `${sshd.root}/in/a.txt`,
          new_name: `${sshd.root}/in/b.txt`,
          overwrite: true,
        },
      });
      assert.equal(
        res(await call(ctx, "error", { session_id: id })) as unknown,
        null,
        "success clears error",
      );
      const rm = await call(ctx, "remove", { session_id: id, remote_file: "in/b.txt" });
      assert.equal(res(rm).remote_file, `${sshd.root}/in/b.txt`);
      const again = await call(ctx, "remove", { session_id: id, remote_file: "in/b.txt" });
      assert.equal(
        again.error,
        "Couldn't delete remote file: No such file",
      );
    });

    await t.step("missing remote file, missing local file, bad setcwd", async () => {
      const g = await call(ctx, "get", {
        session_id: id,
        remote_file: "nope.txt",
        local_file: "nope.txt",
      });
      assert.equal(
        g.error,
        "Couldn't stat remote file: No such file",
      );
      await assert.rejects(Deno.stat(`${work}/nope.txt`));
      const p = await call(ctx, "put", { session_id: id, local_file: "absent.bin" });
      assert.equal(p.error, "Unable to open local file 'absent.bin': No such file or directory");
      const c = await call(ctx, "setcwd", { session_id: id, remote_dir: "in/sub/big.bin" });
      assert.match(
        c.error as string,
        /^Remote object '.*\/in\/sub\/big\.bin' is not a directory$/,
      );
      assert.equal(res(await call(ctx, "cwd", { session_id: id })) as unknown, sshd.root);
    });

    await t.step("key authentication (-i and -o IdentityFile), default ~/.ssh key", async () => {
      for (const more of [["-i", sshd.keyPath], ["-o", `IdentityFile=${sshd.rsaKeyPath}`]]) {
        const k = await call(ctx, "new", { ...base, more });
        assert.equal(k.success, true, String(k.error));
        assert.equal(
          res(await call(ctx, "is_connected", { session_id: res(k).session_id })) as unknown,
          true,
        );
        await call(ctx, "disconnect", { session_id: res(k).session_id });
      }
      await Deno.mkdir(`${home}/.ssh`);
      await Deno.copyFile(sshd.keyPath, `${home}/.ssh/id_ed25519`);
      const d = await call(ctx, "new", base);
      assert.equal(d.success, true, String(d.error));
      await call(ctx, "disconnect", { session_id: res(d).session_id });
      await Deno.remove(`${home}/.ssh`, { recursive: true });
      const missing = await call(ctx, "new", { ...base, more: ["-i", "no_such_key"] });
      assert.equal(
        missing.error,
        `SFTP connection failed: Key file not found: ${work}/no_such_key`,
      );
    });

    await t.step("known_hosts of the caller's HOME is enforced", async () => {
      await Deno.mkdir(`${home}/.ssh`, { recursive: true });
      const kh = `${home}/.ssh/known_hosts`;
      await Deno.writeTextFile(kh, `[${sshd.host}]:${sshd.port} ${sshd.hostKey}\n`);
      const good = await call(ctx, "new", { ...base, password: sshd.password });
      assert.equal(good.success, true, String(good.error));
      await call(ctx, "disconnect", { session_id: res(good).session_id });
      const other =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
      await Deno.writeTextFile(kh, `[${sshd.host}]:${sshd.port} ${other}\n`);
      const bad = await call(ctx, "new", { ...base, password: sshd.password });
      assert.match(
        bad.error as string,
        /^SFTP connection failed: Host key verification failed: .* does not match /,
      );
      await Deno.remove(kh);
      const strict = await call(ctx, "new", {
        ...base,
        password: sshd.password,
        more: ["-o", "StrictHostKeyChecking=yes"],
      });
      assert.match(strict.error as string, /not in known_hosts and StrictHostKeyChecking=yes/);
    });

    await t.step("wrong password, refused connection, silent server", async () => {
      const wrong = await call(ctx, "new", { ...base, password: "wrong" });
      assert.deepEqual(wrong, {
        success: false,
        error:
          `SFTP connection failed: Authentication failed for ${sshd.user}@${sshd.host} (tried password)`,
      });
      const refused = await call(ctx, "new", { ...base, port: closedPort(), password: "x" });
      assert.match(
        refused.error as string,
        /^SFTP connection failed: 127\.0\.0\.1:\d+: Connection refused$/,
      );
      const silent = startSilentServer();
      try {
        const t0 = Date.now();
        const r = await call(ctx, "new", { ...base, port: silent.port, password: "x", timeout: 1 });
        assert.match(
          r.error as string,
          /^SFTP connection failed: Timed out after 1 s connecting to /,
        );
        assert.ok(Date.now() - t0 < 3000);
      } finally {
        await silent.stop();
      }
      const none = await call(ctx, "new", base);
      assert.match(none.error as string, /No authentication method provided/);
    });

    await t.step(
      "a server that stops mid-transfer: timeout, the session closes, others go on",
      async () => {
        const relay = startRelay(sshd.port);
        try {
          const s = res(
            await call(ctx, "new", {
              ...base,
              port: relay.port,
              password: sshd.password,
              timeout: 1,
            }),
          ).session_id;
          // Freeze the relay once the download is under way (50 KB into it).
          const before = relay.downBytes;
          relay.freezeAtDown(before + 50_000);
          const g = await call(ctx, "get", {
            session_id: s,
            remote_file: `${sshd.root}/in/sub/big.bin`,
            local_file: "stalled.bin",
          });
          assert.ok(
            relay.downBytes >= before + 50_000,
            `${relay.downBytes - before} bytes relayed`,
          );
          assert.match(
            g.error as string,
            /^Couldn't get remote file .*: get: no answer from 127\.0\.0\.1:\d+ within 1 s; connection closed$/,
          );
          await assert.rejects(Deno.stat(`${work}/stalled.bin`), "the partial file is removed");
          assert.equal(res(await call(ctx, "is_connected", { session_id: s })) as unknown, false);
          const next = await call(ctx, "ls", { session_id: s });
          assert.match(
            next.error as string,
            /^Not connected to .* create a new Net::SFTP::Foreign object$/,
          );
          // The direct session still works.
          assert.equal((await call(ctx, "ls", { session_id: id })).success, true);
        } finally {
          await relay.stop();
        }
        const relay2 = startRelay(sshd.port);
        try {
          const s =
            res(await call(ctx, "new", { ...base, port: relay2.port, password: sshd.password }))
              .session_id;
          relay2.cut();
          const r = await call(ctx, "ls", { session_id: s });
          assert.match(r.error as string, /Couldn't open remote dir|Not connected/);
        } finally {
          await relay2.stop();
        }
      },
    );

    await t.step("disconnect, then unknown ids", async () => {
      const d = await call(ctx, "disconnect", { session_id: id });
      assert.equal(res(d).session_id, id);
      const again = await call(ctx, "disconnect", { session_id: id });
      assert.match(again.error as string, /^Invalid session ID: /);
      assert.match(
        (await call(ctx, "ls", { session_id: id })).error as string,
        /^Invalid session ID: /,
      );
    });
  } finally {
    await tc.close();
    await sshd.stop();
    await Deno.remove(work, { recursive: true });
    await Deno.remove(home, { recursive: true });
  }
});
