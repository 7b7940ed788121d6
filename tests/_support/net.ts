/**
 * @module
 * Pieces the test servers share: running a command, creating a local test user, loopback ports
 * (free or refused), and a silent TCP server that accepts and never answers.
 */

/**
 * Runs a command to completion; returns its stdout.
 *
 * @throws {Error} "<cmd> <args>: <stderr>" when it exits non-zero
 */
export async function run(
  cmd: string,
  args: string[],
  opts: { stdin?: string; cwd?: string } = {},
): Promise<string> {
  const p = new Deno.Command(cmd, {
    args,
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    stdin: opts.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (opts.stdin) {
    const w = p.stdin.getWriter();
    await w.write(new TextEncoder().encode(opts.stdin));
    await w.close();
  }
  const out = await p.output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/** Creates a local user when missing (no home directory made), then sets its password. */
export async function ensureUser(
  name: string,
  password: string,
  opts: { home?: string; createHome?: boolean } = {},
): Promise<void> {
  const passwd = await Deno.readTextFile("/etc/passwd");
  if (!passwd.split("\n").some((l) => l.startsWith(`${name}:`))) {
    await run("useradd", [
      opts.createHome ? "-m" : "-M",
      ...(opts.home ? ["-d", opts.home] : []),
      "-s",
      "/bin/sh",
      name,
    ]).catch((e) => {
      // Another test process may have created it meanwhile.
      if (!/already exists/.test(String(e))) throw e;
    });
  }
  await run("chpasswd", [], { stdin: `${name}:${password}\n` });
}

/** A loopback port nothing listens on right now (free to bind, or refused to connect). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** A port nothing listens on: connections are refused. */
export const closedPort = freePort;

/** A fake server on loopback. */
export interface FakeServer {
  readonly host: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** A TCP listener that accepts connections and never sends a byte (a silent server). */
export function startSilentServer(): FakeServer {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const loop = (async () => {
    try {
      for await (const c of l) conns.push(c);
    } catch { /* closed */ }
  })();
  return {
    host: "127.0.0.1",
    port: (l.addr as Deno.NetAddr).port,
    async stop() {
      l.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await loop;
    },
  };
}
