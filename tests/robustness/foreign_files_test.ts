/**
 * Robustness: files another local user plants where the daemon creates its own (a shared,
 * sticky directory like /tmp). A second user (created here with useradd) plants symbolic links
 * to the victim's file, foreign-owned lock and socket files, and runs a fake daemon on the path.
 * The daemon refuses each with a clear message and touches nothing; client commands refuse the
 * foreign daemon unless CPAN_BRIDGE_ALLOW_FOREIGN_DAEMON=1, and then say whose it is.
 * Root only (useradd, runuser).
 */

import assert from "node:assert/strict";
import { cliCommand } from "../_support/daemon.ts";
import { waitFor } from "../_support/wait.ts";

const OTHER = "cbridge_other";
const isRoot = Deno.uid() === 0;

async function sh(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  const o = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  return { code: o.code, out: dec.decode(o.stdout) + dec.decode(o.stderr) };
}

/** Runs a command as the other user. */
const asOther = (cmd: string, ...args: string[]) =>
  sh("runuser", ["-u", OTHER, "--", cmd, ...args]);

/** Runs the CLI (as root), killed after 20 s (a daemon that starts would otherwise run on). */
async function cli(args: string[], env: Record<string, string> = {}) {
  const [cmd, ...pre] = cliCommand();
  const child = new Deno.Command(cmd!, {
    args: [...pre, ...args],
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const o = await child.output();
  clearTimeout(timer);
  const dec = new TextDecoder();
  return { code: o.code, stdout: dec.decode(o.stdout), stderr: dec.decode(o.stderr) };
}

Deno.test({
  name: "daemon start-up refuses planted symlinks and foreign-owned lock, log and socket files",
  ignore: !isRoot,
  async fn() {
    if ((await sh("id", ["-u", OTHER])).code !== 0) {
      const r = await sh("useradd", ["-M", "-s", "/usr/sbin/nologin", OTHER]);
      assert.equal(r.code, 0, r.out);
    }
    const shared = await Deno.makeTempDir({ prefix: "cpan-bridge-shared-" });
    const logs = await Deno.makeTempDir({ prefix: "cpan-bridge-logs-" });
    await Deno.chmod(shared, 0o1777);
    const victim = `${logs}/precious.txt`;
    await Deno.writeTextFile(victim, "precious\n");
    const sock = `${shared}/cpan_bridge.sock`;
    const clean = async () => {
      const names: string[] = [];
      for await (const e of Deno.readDir(shared)) names.push(e.name);
      for (const n of names) await Deno.remove(`${shared}/${n}`);
    };
    try {
      // 1. <sock>.lock planted as a symlink to the victim's file.
      await asOther("ln", "-s", victim, `${sock}.lock`);
      let r = await cli(["daemon", "--socket", sock, "--log-dir", logs]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        /Cannot use lock file .*\.lock: it is a symbolic link \(to .*precious\.txt\)/,
      );
      assert.equal(await Deno.readTextFile(victim), "precious\n");
      await clean();

      // 2. The daemon log planted as a symlink to the victim's file.
      await asOther("ln", "-s", victim, `${shared}/cpan_daemon.log`);
      r = await cli(["daemon", "--socket", `${logs}/s.sock`, "--log-dir", shared]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /Cannot use log file .*cpan_daemon\.log: it is a symbolic link/);
      assert.equal(await Deno.readTextFile(victim), "precious\n");
      await clean();

      // 3. A foreign-owned lock file.
      await asOther("touch", `${sock}.lock`);
      r = await cli(["daemon", "--socket", sock, "--log-dir", logs]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(
          `it is owned by uid \\d+ \\(${OTHER}\\), not by the daemon's user \\(uid 0 \\(root\\)\\)`,
        ),
      );
      await clean();

      // 4. A foreign-owned dead socket.
      const mk = await asOther(
        "/usr/bin/perl",
        "-MIO::Socket::UNIX",
        "-e",
        "IO::Socket::UNIX->new(Local => $ARGV[0], Listen => 1) or die $!",
        sock,
      );
      assert.equal(mk.code, 0, mk.out);
      r = await cli(["daemon", "--socket", sock, "--log-dir", logs]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`a dead socket owned by uid \\d+ \\(${OTHER}\\) is there`));
      assert.ok((await Deno.lstat(sock)).isSocket, "the foreign socket was removed");
      await clean();

      // 5. A foreign user's live "daemon" (answers anything with success).
      // setpriv execs the program itself (runuser would fork it and outlive its kill).
      const fake = new Deno.Command("setpriv", {
        args: [
          `--reuid=${OTHER}`,
          `--regid=${OTHER}`,
          "--clear-groups",
          "/usr/bin/perl",
          "-MIO::Socket::UNIX",
          "-e",
          `my $s = IO::Socket::UNIX->new(Local => $ARGV[0], Listen => 5) or die $!;
           while (my $c = $s->accept) { local $/; my $q = <$c>;
             print $c '{"success":true,"result":{"success":true,"overall_status":"healthy","uptime":1,"checks":{}}}';
             close $c }`,
          sock,
        ],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
      try {
        await waitFor(
          () => Deno.lstat(sock).then((s) => s.isSocket === true, () => false),
          { what: "fake daemon" },
        );
        const h = await cli(["--health", "--socket", sock]);
        assert.equal(h.code, 3, h.stdout + h.stderr);
        assert.match(
          h.stdout,
          new RegExp(
            `^CPAN-BRIDGE UNKNOWN - Refusing the daemon at .*: its socket is owned by uid \\d+ \\(${OTHER}\\), not by you \\(uid 0 \\(root\\)\\)`,
          ),
        );
        const c = await cli(["call", "database", "connect", '{"password":"pw"}', "--socket", sock]);
        assert.equal(c.code, 1);
        assert.match(c.stderr, /Refusing the daemon/);
        const p = await cli(["ping", "--socket", sock], { CPAN_BRIDGE_ALLOW_FOREIGN_DAEMON: "1" });
        assert.equal(p.code, 0, p.stderr);
        assert.match(p.stderr, new RegExp(`the daemon at .* belongs to uid \\d+ \\(${OTHER}\\)`));
        // Starting a daemon there names the other user instead of "another cpan-bridge".
        r = await cli(["daemon", "--socket", sock, "--log-dir", logs]);
        assert.equal(r.code, 1, r.stderr);
        assert.match(
          r.stderr,
          new RegExp(`a daemon of another user, uid \\d+ \\(${OTHER}\\), is running there`),
        );
      } finally {
        fake.kill("SIGKILL");
        await fake.status;
      }
    } finally {
      await Deno.remove(shared, { recursive: true }).catch(() => {});
      await Deno.remove(logs, { recursive: true }).catch(() => {});
    }
  },
});
