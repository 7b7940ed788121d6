/**
 * @module
 * Writing to the caller's own file descriptors (its stdout/stderr) through /proc: shared offsets,
 * closed descriptors and the kernel's refusals as errors.
 */

import assert from "node:assert/strict";
import { closeFd, dupCallerFd, writeFd } from "../../../helpers/logging_helper/caller_fd.ts";
import { callerWith, printsOnCue, redirected } from "./_callers.ts";

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
