/**
 * The heap trim end to end (src/heap_trim.ts): a daemon started as users start it (the launchers'
 * `--expose-gc`) collects the garbage of large calls, on its own thread and in the helper worker
 * that served them, and says so in its DEBUG log. Without the flag neither line could appear.
 */

import assert from "node:assert/strict";
import { spawnDaemon } from "../_support/daemon.ts";
import { waitFor } from "../_support/wait.ts";
import { rawJson } from "../_support/raw.ts";

type Daemon = Awaited<ReturnType<typeof spawnDaemon>>;

/** Runs `fn` against a DEBUG daemon started as the launchers start it; `log` reads its log. */
async function withDaemon(fn: (d: Daemon, log: () => Promise<string>) => Promise<void>) {
  const d = await spawnDaemon({ env: { CPAN_BRIDGE_DEBUG: "1" } });
  try {
    await fn(d, () => Deno.readTextFile(`${d.dir}/cpan_daemon.log`).catch(() => ""));
  } finally {
    await d.kill();
    await Deno.remove(d.dir, { recursive: true });
  }
}

/** `n` calls of `module.fn` with `params(i)`, each of which must succeed. */
async function calls(
  d: Daemon,
  n: number,
  module: string,
  fn: string,
  params: (i: number) => unknown,
) {
  for (let i = 0; i < n; i++) {
    const r = await rawJson(d.socket, { module, function: fn, params: params(i) });
    assert.equal(r.success, true, String(r.error));
  }
}

Deno.test("heap trim behaviour: large calls' garbage is collected in the daemon and in its helper worker", async () => {
  await withDaemon(async (d, log) => {
    const text = "a<b & c>d ".repeat(300_000); // 3 MB in, about 7 MB out, per call
    await calls(d, 4, "xml_helper", "escape_xml", (i) => ({ value: `${i}${text}` }));
    await waitFor(
      async () => {
        const t = await log();
        return /Heap collected: [\d.]+ MB in use before/.test(t) &&
          /Helper worker heap collected: [\d.]+ MB in use before/.test(t);
      },
      {
        what: "both heap collections in the daemon log",
        deadlineMs: 20_000,
        logTail: { dir: d.dir },
      },
    );
  });
});

Deno.test("heap trim behaviour: when traffic stops, the daemon collects its heap thoroughly", async () => {
  await withDaemon(async (d, log) => {
    // Only the quiet rule's collections are thorough; the growth rule's are regular.
    const thorough = async () =>
      ((await log()).match(/\] CPANDaemon: Heap collected: .* \(thorough\)$/gm) ?? []).length;
    const before = await thorough();
    await calls(d, 5, "test", "echo", (i) => ({ value: `${i}`.padEnd(200_000, "x") }));
    await waitFor(async () => (await thorough()) > before, {
      what: "a thorough heap collection after the calls stopped",
      deadlineMs: 15_000,
      logTail: { dir: d.dir },
    });
  });
});
