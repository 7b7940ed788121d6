/**
 * @module
 * Facts about the daemon process behind a socket path, read from `/proc` (Linux): which process
 * serves the path (cpan-bridge's lock file, else the listening socket's inode), its resident
 * memory and open descriptors. Bounded scans; no facts rather than a guess.
 */

/** What `/proc` tells about the daemon. */
export interface ProcessFacts {
  readonly pid: number;
  readonly uid: number | undefined;
  readonly rssKb: number | undefined;
  readonly threads: number | undefined;
  readonly openFds: number | undefined;
  readonly fdLimit: string | undefined;
}

async function listeningInodes(procDir: string, socketPath: string): Promise<Set<string>> {
  const text = await Deno.readTextFile(`${procDir}/net/unix`).catch(() => "");
  const out = new Set<string>();
  for (const line of text.split("\n").slice(1, 200_000)) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 8 && f.slice(7).join(" ") === socketPath) out.add(f[6]!);
  }
  return out;
}

/**
 * The pid of the daemon serving `socketPath`: the one cpan-bridge wrote into `<socket>.lock`
 * (its socket is bound elsewhere and renamed into place, so `/proc/net/unix` shows another
 * path), else the process that holds a listening socket bound at the path (the Python daemon).
 */
export async function daemonPid(
  socketPath: string,
  procDir = "/proc",
): Promise<number | undefined> {
  const text = await Deno.readTextFile(`${socketPath}.lock`).catch(() => "");
  const locked = Number.parseInt(text, 10);
  if (locked > 0 && (await Deno.stat(`${procDir}/${locked}`).catch(() => undefined))) {
    return locked;
  }
  const inodes = await listeningInodes(procDir, socketPath);
  if (inodes.size === 0) return undefined;
  let scanned = 0;
  for await (const p of Deno.readDir(procDir)) {
    if (!/^\d+$/.test(p.name) || ++scanned > 100_000) continue;
    try {
      let fds = 0;
      for await (const fd of Deno.readDir(`${procDir}/${p.name}/fd`)) {
        if (++fds > 1_000_000) break;
        const link = await Deno.readLink(`${procDir}/${p.name}/fd/${fd.name}`).catch(() => "");
        const m = /^socket:\[(\d+)\]$/.exec(link);
        if (m && inodes.has(m[1]!)) return Number(p.name);
      }
    } catch { /* not ours to read, or gone */ }
  }
  return undefined;
}

function field(status: string, name: string): string | undefined {
  return new RegExp(`^${name}:\\s*(.+)$`, "m").exec(status)?.[1]?.trim();
}

/** Memory, threads and descriptors of `pid`. */
export async function processFacts(pid: number, procDir = "/proc"): Promise<ProcessFacts> {
  const status = await Deno.readTextFile(`${procDir}/${pid}/status`).catch(() => "");
  let openFds: number | undefined = 0;
  try {
    for await (const _ of Deno.readDir(`${procDir}/${pid}/fd`)) openFds++;
  } catch {
    openFds = undefined;
  }
  const limits = await Deno.readTextFile(`${procDir}/${pid}/limits`).catch(() => "");
  const rss = field(status, "VmRSS");
  const uid = field(status, "Uid");
  const threads = field(status, "Threads");
  return {
    pid,
    uid: uid === undefined ? undefined : Number(uid.split(/\s+/)[0]),
    rssKb: rss === undefined ? undefined : Number.parseInt(rss, 10),
    threads: threads === undefined ? undefined : Number(threads),
    openFds,
    fdLimit: /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits)?.slice(1, 3).join(" / "),
  };
}
