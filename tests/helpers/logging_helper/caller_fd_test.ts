/**
 * @module
 * Writing to the caller's own file descriptors (its stdout/stderr) through /proc: shared offsets,
 * closed descriptors and the kernel's refusals as errors.
 */

import assert from "node:assert/strict";
import { waitFor } from "../../_support/wait.ts";
import { closeFd, dupCallerFd, writeFd } from "../../../helpers/logging_helper/caller_fd.ts";

/** A real process whose stdout is `redirect` (a shell redirection), until it is killed. */
function callerWith(redirect: string): Deno.ChildProcess {
  return new Deno.Command("sh", { args: ["-c", `exec sleep 30 ${redirect}`] }).spawn();
}

/** Waits until the shell of callerWith() has redirected its stdout to `path`. */
async function redirected(p: Deno.ChildProcess, path: string): Promise<void> {
  await waitFor(async () => (await Deno.readLink(`/proc/${p.pid}/fd/1`).catch(() => "")) === path, {
    deadlineMs: 5000,
    what: `the shell's stdout redirected to ${path}`,
  });
}

/** A caller whose stdout is `> path`: it prints `own\n` when a line arrives on its stdin, then exits. */
function printsOnCue(path: string): { p: Deno.ChildProcess; cue: () => Promise<void> } {
  const p = new Deno.Command("sh", {
    args: ["-c", `exec perl -e '$| = 1; <STDIN>; print "own\\n"' > ${path}`],
    stdin: "piped",
  }).spawn();
  const w = p.stdin.getWriter();
  return { p, cue: async () => (await w.write(new TextEncoder().encode("go\n")), await w.close()) };
}

Deno.test("dupCallerFd() shares the caller's file offset; a closed fd is an error", async () => {
  const dir = await Deno.makeTempDir();
  const { p, cue } = printsOnCue(`${dir}/out`);
  try {
    await redirected(p, `${dir}/out`);
    const fd = dupCallerFd(p.pid, 1);
    assert.equal(typeof fd, "number", JSON.stringify(fd));
    assert.equal(await Deno.readLink(`/proc/self/fd/${fd}`), `${dir}/out`);
    assert.equal(writeFd(fd as number, new TextEncoder().encode("daemon\n")), undefined);
    closeFd(fd as number);
    await cue();
    await p.status;
    assert.equal(await Deno.readTextFile(`${dir}/out`), "daemon\nown\n", "the caller wrote after");
    assert.match((dupCallerFd(Deno.pid, 987) as { error: string }).error, /Bad file descriptor/);
    assert.match((dupCallerFd(p.pid, 1) as { error: string }).error, /No such process/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "dupCallerFd() returns the kernel's refusal (EPERM) as an error, never throws",
  ignore: Deno.uid() !== 0, // needs to run the probe as another user
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const target = callerWith(`> ${dir}/out`);
    try {
      await Deno.chmod(dir, 0o755);
      const mod = new URL("../../../helpers/logging_helper/caller_fd.ts", import.meta.url).href;
      await Deno.writeTextFile(
        `${dir}/probe.ts`,
        `import { dupCallerFd } from "${mod}";\n` +
          `console.log(JSON.stringify(dupCallerFd(${target.pid}, 1)));\n`,
      );
      await Deno.chmod(`${dir}/probe.ts`, 0o644);
      const out = await new Deno.Command("setpriv", {
        args: ["--reuid", "65534", "--regid", "65534", "--clear-groups", Deno.execPath()]
          .concat(["run", "-A", "--no-config", "--quiet", `${dir}/probe.ts`]),
        env: { HOME: dir, DENO_DIR: `${dir}/deno_dir` },
        stderr: "inherit",
      }).output();
      const r = JSON.parse(new TextDecoder().decode(out.stdout));
      assert.deepEqual(r, { error: `pidfd_getfd(${target.pid}, 1): Operation not permitted` });
    } finally {
      target.kill();
      await target.status;
      await Deno.remove(dir, { recursive: true });
    }
  },
});
