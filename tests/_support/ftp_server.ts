/**
 * @module
 * FTP test servers: a real vsftpd (Debian) started on a loopback high port with a generated
 * config and a throwaway local user, plus scripted fake servers for failure cases (a server that
 * never greets, one that stalls in the middle of a download). Also runnable as a script, so the
 * Perl tests can start the same servers: `deno run -A tests/_support/ftp_server.ts` prints one
 * JSON line with the addresses and runs until stdin closes.
 */

import { ensureUser, type FakeServer, freePort, run, startSilentServer } from "./net.ts";
import { waitFor } from "./wait.ts";

export { type FakeServer, startSilentServer };

/** The vsftpd test user (created once with useradd; the password is only valid for these tests). */
export const FTP_USER = "cbftp";
export const FTP_PASS = "cb-ftp-test-pw";

/** A running vsftpd. */
export interface VsftpdServer {
  readonly host: string;
  readonly port: number;
  /** The FTP root (the user's login directory), writable by FTP_USER. */
  readonly root: string;
  /** vsftpd's log: every FTP command and reply ("FTP command: Client …, "STOR x""). */
  readonly log: string;
  stop(): Promise<void>;
}

/** Creates the local test user when missing (home "/", shell /bin/sh for pam_shells). */
function ensureFtpUser(): Promise<void> {
  return ensureUser(FTP_USER, FTP_PASS, { home: "/" });
}

/** Starts vsftpd in the foreground on 127.0.0.1 with passive ports in a private range. */
export async function startVsftpd(): Promise<VsftpdServer> {
  await ensureFtpUser();
  const dir = await Deno.makeTempDir({ prefix: "cb_vsftpd_" });
  const root = `${dir}/root`;
  await Deno.mkdir(root);
  await run("chown", [FTP_USER, root]);
  await Deno.chmod(dir, 0o755);
  const port = freePort();
  const pasv = 40000 + Math.floor(Math.random() * 200) * 100;
  const conf = [
    "listen=YES",
    "listen_ipv6=NO",
    "listen_address=127.0.0.1",
    `listen_port=${port}`,
    "background=NO",
    "anonymous_enable=NO",
    "local_enable=YES",
    "write_enable=YES",
    "local_umask=022",
    `local_root=${root}`,
    "pasv_enable=YES",
    "port_enable=YES",
    `pasv_min_port=${pasv}`,
    `pasv_max_port=${pasv + 99}`,
    "pasv_address=127.0.0.1",
    "seccomp_sandbox=NO",
    "isolate=NO",
    "isolate_network=NO",
    // Every command and reply is logged, so tests can compare what goes over the wire.
    "xferlog_enable=YES",
    "xferlog_std_format=NO",
    "log_ftp_protocol=YES",
    `vsftpd_log_file=${dir}/vsftpd.log`,
    "secure_chroot_dir=/var/run/vsftpd/empty",
    "pam_service_name=vsftpd",
    "userlist_enable=NO",
    "tcp_wrappers=NO",
    "connect_from_port_20=NO",
    "ascii_upload_enable=YES",
    "ascii_download_enable=YES",
    "",
  ].join("\n");
  await Deno.writeTextFile(`${dir}/vsftpd.conf`, conf);
  const child = new Deno.Command("vsftpd", {
    args: [`${dir}/vsftpd.conf`],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  })
    .spawn();
  const stderr = child.stderr.pipeTo(new WritableStream()).catch(() => {});
  await waitFor(
    async () => {
      try {
        const c = await Deno.connect({ hostname: "127.0.0.1", port });
        c.close();
        return true;
      } catch {
        return false;
      }
    },
    { deadlineMs: 5000, what: `vsftpd on port ${port}` },
  );
  return {
    host: "127.0.0.1",
    port,
    root,
    log: `${dir}/vsftpd.log`,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* exited */ }
      await child.status;
      await stderr;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** A scripted fake server. */
/**
 * A minimal FTP server that logs anyone in, and on RETR sends `partial` bytes of data and then
 * stalls (keeps both connections open, sends nothing more): a server that stops mid-transfer.
 */
export function startStallingServer(partial = 1000): FakeServer {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn | Deno.Listener>();
  const enc = new TextEncoder();
  const tasks: Promise<void>[] = [];
  const session = async (c: Deno.Conn) => {
    open.add(c);
    const say = (s: string) => c.write(enc.encode(`${s}\r\n`)).catch(() => 0);
    await say("220 stalling test server");
    let dataListener: Deno.Listener | undefined;
    let buf = "";
    const chunk = new Uint8Array(1024);
    try {
      for (;;) {
        const n = await c.read(chunk);
        if (n === null) break;
        buf += new TextDecoder().decode(chunk.subarray(0, n));
        let i;
        while ((i = buf.indexOf("\r\n")) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const verb = (line.split(" ")[0] ?? "").toUpperCase();
          if (verb === "USER") await say("331 Password please.");
          else if (verb === "PASS") await say("230 Welcome.");
          else if (verb === "TYPE") await say("200 OK.");
          else if (verb === "PASV") {
            dataListener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
            open.add(dataListener);
            const p = (dataListener.addr as Deno.NetAddr).port;
            await say(`227 Entering Passive Mode (127,0,0,1,${p >> 8},${p & 255}).`);
          } else if (verb === "RETR" && dataListener) {
            await say("150 Opening BINARY mode data connection.");
            const d = await dataListener.accept();
            open.add(d);
            await d.write(new Uint8Array(partial).fill(65)).catch(() => 0);
            // ...and nothing more: no end of data, no 226.
          } else if (verb === "QUIT") {
            await say("221 Bye.");
            break;
          } else await say("502 Not implemented.");
        }
      }
    } catch { /* closed by stop() */ }
  };
  const loop = (async () => {
    try {
      for await (const c of l) tasks.push(session(c));
    } catch { /* closed */ }
  })();
  return {
    host: "127.0.0.1",
    port: (l.addr as Deno.NetAddr).port,
    async stop() {
      l.close();
      for (const c of open) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await loop;
      await Promise.all(tasks);
    },
  };
}

if (import.meta.main) {
  const vs = await startVsftpd();
  const silent = startSilentServer();
  const stall = startStallingServer();
  // deno-lint-ignore no-console
  console.log(JSON.stringify({
    host: vs.host,
    port: vs.port,
    root: vs.root,
    log: vs.log,
    user: FTP_USER,
    password: FTP_PASS,
    silent_port: silent.port,
    stall_port: stall.port,
  }));
  // Run until the parent closes our stdin.
  await Deno.stdin.readable.pipeTo(new WritableStream()).catch(() => {});
  await Promise.all([vs.stop(), silent.stop(), stall.stop()]);
}
