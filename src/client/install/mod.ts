/**
 * @module
 * `cpan-bridge install`: installs the running single binary to `<prefix>/bin`, unpacks its
 * runtime once into `<prefix>/lib/cpan-bridge/` (root-owned, readable by all; the launcher runs
 * every user from there, so nothing is unpacked per user), and optionally writes and enables
 * the systemd unit and a logrotate snippet. Every path it writes is listed in
 * `<prefix>/lib/cpan-bridge/install-manifest`, which `--uninstall` follows.
 */

import { logrotateSnippet, systemdUnit } from "./units.ts";

/** Options of `install` and `uninstall`. */
export interface InstallOptions {
  readonly prefix: string;
  /** The binary to install (the running one). */
  readonly binary: string;
  /** True for the self-extracting build, whose runtime is unpacked at install. */
  readonly selfExtracting: boolean;
  readonly systemd?: boolean;
  readonly systemdDir?: string;
  readonly user?: string;
  readonly socket?: string;
  readonly logrotate?: boolean;
  readonly logrotateDir?: string;
  /** Run systemctl (default: when systemd is running). */
  readonly enable?: boolean;
  readonly log?: (line: string) => void;
}

/** Why an install step failed, with what to do. */
export class InstallError extends Error {
  override readonly name = "InstallError";
}

const MANIFEST = "install-manifest";

async function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(cmd, {
    args,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  if (!out.success) {
    throw new InstallError(
      `Cannot run ${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr).trim()}`,
    );
  }
}

/** Writes `text` (or copies `from`) to `path` atomically, with `mode`. */
async function place(path: string, mode: number, data: { text?: string; from?: string }) {
  const dir = path.replace(/\/[^/]*$/, "") || "/";
  await Deno.mkdir(dir, { recursive: true, mode: 0o755 });
  const tmp = `${path}.tmp-${Deno.pid}`;
  if (data.from !== undefined) await Deno.copyFile(data.from, tmp);
  else await Deno.writeTextFile(tmp, data.text ?? "", { mode });
  await Deno.chmod(tmp, mode);
  await Deno.rename(tmp, path);
}

/** Makes a tree readable by everyone and writable by its owner only. */
async function publish(path: string): Promise<void> {
  const st = await Deno.lstat(path);
  if (st.isSymlink) return;
  if (st.isDirectory) {
    await Deno.chmod(path, 0o755);
    for await (const e of Deno.readDir(path)) await publish(`${path}/${e.name}`);
  } else await Deno.chmod(path, ((st.mode ?? 0) & 0o100) ? 0o755 : 0o644);
}

/**
 * Copies the runtime this process runs from (the launcher's unpacked `<version>-<id>`, found
 * from the runtime's own path) into `libDir`, readable by everyone; returns its new path.
 */
async function installRuntime(libDir: string): Promise<string> {
  const runtime = Deno.execPath(); // <unpacked>/runtime/deno
  const unpacked = runtime.replace(/\/runtime\/[^/]+$/, "");
  const name = unpacked.replace(/^.*\//, "");
  if (unpacked === runtime || !(await Deno.stat(`${unpacked}/.complete`).catch(() => undefined))) {
    throw new InstallError(`Cannot find the unpacked runtime of this binary (running ${runtime})`);
  }
  await Deno.mkdir(libDir, { recursive: true, mode: 0o755 });
  await Deno.chmod(libDir, 0o755);
  const final = `${libDir}/${name}`;
  const tmp = await Deno.makeTempDir({ dir: libDir, prefix: `.tmp-${name}-` });
  // Deno's code cache is keyed by the directory it was made in: leave ours out and fill a new
  // one from the installed copy (below), so every user starts from a warm cache.
  await copyTree(unpacked, tmp, new Set([`${unpacked}/cache`]));
  await Deno.mkdir(`${tmp}/cache`);
  await publish(tmp);
  await Deno.remove(final, { recursive: true }).catch(() => {}); // an older copy of this build
  await Deno.rename(tmp, final);
  return final;
}

/** Runs the installed binary once as root, which fills the shared runtime's code cache. */
async function warmCache(bin: string, runtimeDir: string): Promise<void> {
  for (const args of [["--version"], ["--help"]]) {
    const out = await new Deno.Command(bin, { args, stdout: "null", stderr: "piped" }).output();
    if (!out.success) {
      throw new InstallError(
        `Cannot run the installed ${bin}: ${new TextDecoder().decode(out.stderr).trim()}`,
      );
    }
  }
  await publish(runtimeDir);
}

async function copyTree(from: string, to: string, skip: ReadonlySet<string>): Promise<void> {
  for await (const e of Deno.readDir(from)) {
    const [src, dst] = [`${from}/${e.name}`, `${to}/${e.name}`];
    if (skip.has(src)) continue;
    if (e.isSymlink) await Deno.symlink(await Deno.readLink(src), dst);
    else if (e.isDirectory) {
      await Deno.mkdir(dst);
      await copyTree(src, dst, skip);
    } else await Deno.copyFile(src, dst);
  }
}

function systemdRunning(): boolean {
  try {
    return Deno.statSync("/run/systemd/system").isDirectory;
  } catch {
    return false;
  }
}

/** Installs; returns the paths written. */
export async function install(o: InstallOptions): Promise<string[]> {
  const log = o.log ?? (() => {});
  const written: string[] = [];
  const bin = `${o.prefix}/bin/cpan-bridge`;
  const libDir = `${o.prefix}/lib/cpan-bridge`;
  await place(bin, 0o755, { from: o.binary });
  written.push(bin);
  log(`installed ${bin}`);
  if (o.selfExtracting) {
    const dir = await installRuntime(libDir);
    written.push(dir);
    await warmCache(bin, dir);
    log(`unpacked the runtime once, for every user, into ${dir}`);
  }
  const logDir = "/var/log/cpan-bridge";
  if (o.systemd) {
    const unit = `${o.systemdDir ?? "/etc/systemd/system"}/cpan-bridge.service`;
    await place(unit, 0o644, {
      text: systemdUnit({
        binary: bin,
        user: o.user ?? "root",
        socket: o.socket ?? "/run/cpan-bridge/cpan_bridge.sock",
        logDir,
        logrotate: o.logrotate === true,
      }),
    });
    written.push(unit);
    log(`wrote ${unit}`);
  }
  if (o.logrotate) {
    const snippet = `${o.logrotateDir ?? "/etc/logrotate.d"}/cpan-bridge`;
    await place(snippet, 0o644, { text: logrotateSnippet(logDir) });
    written.push(snippet);
    log(`wrote ${snippet}`);
  }
  await Deno.mkdir(libDir, { recursive: true, mode: 0o755 });
  // An install over an install keeps what the earlier one wrote (an older runtime, a unit), so
  // --uninstall still removes all of it.
  const earlier = await Deno.readTextFile(`${libDir}/${MANIFEST}`).then(
    (t) => t.split("\n").filter((l) => l !== ""),
    () => [] as string[],
  );
  const all = [...new Set([...earlier, ...written])];
  await place(`${libDir}/${MANIFEST}`, 0o644, { text: all.join("\n") + "\n" });
  if (o.systemd && (o.enable ?? systemdRunning())) {
    await run("systemctl", ["daemon-reload"]);
    await run("systemctl", ["enable", "--now", "cpan-bridge.service"]);
    log("enabled and started cpan-bridge.service");
  }
  return written;
}

/** Removes what `install` wrote under `prefix`; returns the paths removed. */
export async function uninstall(
  o: Pick<InstallOptions, "prefix" | "enable" | "log">,
): Promise<string[]> {
  const log = o.log ?? (() => {});
  const libDir = `${o.prefix}/lib/cpan-bridge`;
  let listed: string[];
  try {
    listed = (await Deno.readTextFile(`${libDir}/${MANIFEST}`)).split("\n").filter((l) => l);
  } catch {
    throw new InstallError(
      `Cannot uninstall: ${libDir}/${MANIFEST} is missing (was cpan-bridge installed with --prefix ${o.prefix}?)`,
    );
  }
  const unit = listed.find((p) => p.endsWith("/cpan-bridge.service"));
  if (unit && (o.enable ?? systemdRunning())) {
    await run("systemctl", ["disable", "--now", "cpan-bridge.service"]).catch((e) =>
      log(e.message)
    );
  }
  const removed: string[] = [];
  for (const p of listed.reverse()) {
    await Deno.remove(p, { recursive: true }).then(() => removed.push(p)).catch(() => {});
  }
  await Deno.remove(`${libDir}/${MANIFEST}`);
  await Deno.remove(libDir).catch(() => {}); // only when empty
  for (const p of removed) log(`removed ${p}`);
  return removed;
}
