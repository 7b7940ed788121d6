/**
 * @module
 * Measures the single binary as users deploy it (docs/binary.md): its size, the disk it unpacks
 * to, first start-up of a new user (median of --first-runs, each with an empty cache), later
 * `--version` (median of --runs), the daemon's start-up, `cpan-bridge --health` against a running
 * daemon (median of N, beside `perl -MJSON::PP -MIO::Socket::UNIX -e 1` in the same run) and the
 * idle daemon's RSS. The binary runs from a copy in an empty directory with PATH=/usr/bin:/bin and
 * an empty HOME. Builds dist/cpan-bridge first when it is missing.
 *
 *   deno run --allow-all scripts/bench_binary.ts [--runs 20] [--first-runs 5] [--binary dist/cpan-bridge]
 *     [--baseline OTHER_BINARY]
 *
 * `--baseline` times another build's `--version` and `--health` in the same loops, run for run in
 * turn with this one (A B A B …), and prints the median of the per-pair ratios: on a busy machine
 * the ratio holds where the absolute times drift.
 */

// deno-lint-ignore-file no-console

import { parseArgs } from "node:util";

const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

interface Run {
  code: number;
  ms: number;
  out: string;
}

async function run(cmd: string[], env: Record<string, string>): Promise<Run> {
  const t0 = performance.now();
  const r = await new Deno.Command(cmd[0]!, {
    args: cmd.slice(1),
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const ms = performance.now() - t0;
  const out = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
  return { code: r.code, ms, out };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function until(what: string, timeoutMs: number, cond: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function du(path: string): number {
  let total = 0;
  const walk = (p: string) => {
    const st = Deno.lstatSync(p);
    total += (st.blocks ?? 0) * 512;
    if (st.isDirectory) { for (const e of Deno.readDirSync(p)) walk(`${p}/${e.name}`); }
  };
  walk(path);
  return total;
}

function rssKb(pid: number): number {
  const m = Deno.readTextFileSync(`/proc/${pid}/status`).match(/^VmRSS:\s+(\d+) kB/m);
  return m ? Number(m[1]) : NaN;
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
const fmtMs = (ms: number) => ms.toFixed(ms < 100 ? 1 : 0);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: "string", default: "20" },
      "first-runs": { type: "string", default: "5" },
      binary: { type: "string" },
      baseline: { type: "string" },
    },
  });
  const runs = Number(values.runs);
  const firstRuns = Math.max(1, Number(values["first-runs"]));
  const built = values.binary ?? `${root}/dist/cpan-bridge`;
  try {
    await Deno.stat(built);
  } catch {
    const b = await new Deno.Command("bash", { args: [`${root}/scripts/build_binary.sh`] })
      .output();
    if (b.code !== 0) throw new Error("scripts/build_binary.sh failed");
  }

  const dir = await Deno.makeTempDir({ prefix: "cpan-bridge-bench-" });
  try {
    for (const d of ["bin", "home", "logs"]) await Deno.mkdir(`${dir}/${d}`);
    const bin = `${dir}/bin/cpan-bridge`;
    await Deno.copyFile(built, bin);
    await Deno.chmod(bin, 0o755);
    const env = { PATH: "/usr/bin:/bin", HOME: `${dir}/home` };
    const base = values.baseline ? `${dir}/bin/baseline` : undefined;
    // The baseline unpacks into a HOME of its own, so that the unpacked size is this build's.
    const baseEnv = { ...env, HOME: `${dir}/home-baseline` };
    if (base && values.baseline) {
      await Deno.copyFile(values.baseline, base);
      await Deno.chmod(base, 0o755);
      await Deno.mkdir(baseEnv.HOME);
    }
    const sock = `${dir}/bench.sock`;

    // First run of a new user: an empty cache each time (unpack, then the first start).
    const firsts: number[] = [];
    let version: Run | undefined;
    for (let i = 0; i < firstRuns; i++) {
      await Deno.remove(`${dir}/home`, { recursive: true });
      await Deno.mkdir(`${dir}/home`);
      version = await run([bin, "--version"], env);
      if (version.code !== 0) throw new Error(version.out);
      firsts.push(version.ms);
    }
    const warm: number[] = [];
    const warmBase: number[] = [];
    if (base) await run([base, "--version"], baseEnv); // its own first run (unpack) is not counted
    for (let i = 0; i < runs; i++) {
      warm.push((await run([bin, "--version"], env)).ms);
      if (base) warmBase.push((await run([base, "--version"], baseEnv)).ms);
    }

    const t0 = performance.now();
    const daemon = new Deno.Command(bin, {
      args: ["daemon", "--socket", sock, "--log-dir", `${dir}/logs`],
      env,
      clearEnv: true,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    let firstHealthy = 0;
    try {
      await until(
        "the daemon to answer a ping",
        60_000,
        async () => (await run([bin, "ping", "--socket", sock], env)).code === 0,
      );
      const pingMs = performance.now() - t0;
      await until(
        "the daemon to be healthy",
        60_000,
        async () => (await run([bin, "--health", "--socket", sock], env)).code === 0,
      );
      firstHealthy = performance.now() - t0;

      const health: number[] = [];
      const healthBase: number[] = [];
      const perl: number[] = [];
      const source: number[] = [];
      for (let i = 0; i < runs; i++) {
        const h = await run([bin, "--health", "--socket", sock], env);
        if (h.code !== 0) throw new Error(`--health exited ${h.code}: ${h.out}`);
        health.push(h.ms);
        if (base) healthBase.push((await run([base, "--health", "--socket", sock], baseEnv)).ms);
        perl.push(
          (await run(["/usr/bin/perl", "-MJSON::PP", "-MIO::Socket::UNIX", "-e", "1"], env)).ms,
        );
        source.push(
          (await run([`${root}/scripts/cpan-bridge`, "--health", "--socket", sock], env)).ms,
        );
      }
      // Idle: no request for 5 s after the health checks (the janitor and GC have run).
      await new Promise((r) => setTimeout(r, 5000));
      const rss = rssKb(daemon.pid);

      const cacheDir = `${dir}/home/.cache/cpan-bridge`;
      let unpacked = 0;
      try {
        unpacked = du(cacheDir);
      } catch { /* deno compile build: nothing unpacked */ }

      console.log(`Binary: ${version!.out.trim()}`);
      console.log(
        `Host: ${Deno.hostname()}, ${navigator.hardwareConcurrency} CPUs, load ${
          Deno.loadavg().map((x) => x.toFixed(2)).join(" ")
        }`,
      );
      console.log("");
      console.log("| measure | value |");
      console.log("|---|---|");
      console.log(`| binary size | ${mb((await Deno.stat(bin)).size)} MB |`);
      console.log(
        `| unpacked on first run (\`~/.cache/cpan-bridge/<version>-<id>\`) | ${mb(unpacked)} MB |`,
      );
      const stat = (xs: number[]) =>
        `${fmtMs(median(xs))} ms (${fmtMs(Math.min(...xs))}-${fmtMs(Math.max(...xs))})`;
      console.log(
        `| \`--version\`, first run of a new user, median of ${firstRuns} (min-max) | ${
          stat(firsts)
        } |`,
      );
      console.log(`| \`--version\`, later runs, median of ${runs} (min-max) | ${stat(warm)} |`);
      console.log(`| daemon start to first ping (first daemon run) | ${fmtMs(pingMs)} ms |`);
      console.log(`| daemon start to healthy | ${fmtMs(firstHealthy)} ms |`);
      console.log(
        `| \`cpan-bridge --health\` against the daemon, median of ${runs} (min-max) | ${
          fmtMs(median(health))
        } ms (${fmtMs(Math.min(...health))}-${fmtMs(Math.max(...health))}) |`,
      );
      console.log(
        `| \`perl -MJSON::PP -MIO::Socket::UNIX -e 1\`, median of ${runs} (min-max) | ${
          fmtMs(median(perl))
        } ms (${fmtMs(Math.min(...perl))}-${fmtMs(Math.max(...perl))}) |`,
      );
      console.log(
        `| for reference: \`scripts/cpan-bridge --health\` from a checkout, median of ${runs} | ${
          fmtMs(median(source))
        } ms |`,
      );
      console.log(`| daemon RSS, idle | ${(rss / 1024).toFixed(1)} MB |`);
      if (base) {
        const ratio = (a: number[], b: number[]) =>
          median(a.map((x, i) => x / (b[i] ?? NaN))).toFixed(2);
        console.log(
          `| baseline \`--version\`, later runs, in turn, median of ${runs} | ${
            stat(warmBase)
          }; this / baseline ${ratio(warm, warmBase)} |`,
        );
        console.log(
          `| baseline \`--health\`, in turn, median of ${runs} | ${
            stat(healthBase)
          }; this / baseline ${ratio(health, healthBase)} |`,
        );
      }
    } finally {
      daemon.kill("SIGTERM");
      await daemon.status;
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await main();
