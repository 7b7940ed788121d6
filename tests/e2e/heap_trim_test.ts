/**
 * The heap trim end to end (src/heap_trim.ts): a daemon started as users start it (the launchers'
 * `--expose-gc`) collects the garbage of large calls, on its own thread and in the helper worker
 * that served them, and says so in its DEBUG log. Without the flag neither line could appear.
 */

import assert from "node:assert/strict";
import { spawnDaemon } from "../_support/daemon.ts";
import { waitFor } from "../_support/wait.ts";
import { rawJson } from "../_support/raw.ts";

Deno.test("heap trim behaviour: large calls' garbage is collected in the daemon and in its helper worker", async () => {
  const d = await spawnDaemon({ env: { CPAN_BRIDGE_DEBUG: "1" } });
  try {
    const text = "a<b & c>d ".repeat(300_000); // 3 MB in, about 7 MB out, per call
    for (let i = 0; i < 4; i++) {
      const r = await rawJson(d.socket, {
        module: "xml_helper",
        function: "escape_xml",
        params: { value: `${i}${text}` },
      });
      assert.equal(r.success, true, String(r.error));
    }
    const log = () => Deno.readTextFile(`${d.dir}/cpan_daemon.log`).catch(() => "");
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
  } finally {
    await d.kill();
    await Deno.remove(d.dir, { recursive: true });
  }
});

Deno.test("heap trim behaviour: when traffic stops, the daemon collects its heap thoroughly", async () => {
  const d = await spawnDaemon({ env: { CPAN_BRIDGE_DEBUG: "1" } });
  try {
    const log = () => Deno.readTextFile(`${d.dir}/cpan_daemon.log`).catch(() => "");
    // Only the quiet rule's collections are thorough; the growth rule's are regular.
    const thorough = async () =>
      ((await log()).match(/\] CPANDaemon: Heap collected: .* \(thorough\)$/gm) ?? []).length;
    const before = await thorough();
    for (let i = 0; i < 5; i++) {
      const value = `${i}`.padEnd(200_000, "x");
      const r = await rawJson(d.socket, { module: "test", function: "echo", params: { value } });
      assert.equal(r.success, true, String(r.error));
    }
    await waitFor(async () => (await thorough()) > before, {
      what: "a thorough heap collection after the calls stopped",
      deadlineMs: 15_000,
      logTail: { dir: d.dir },
    });
  } finally {
    await d.kill();
    await Deno.remove(d.dir, { recursive: true });
  }
});
