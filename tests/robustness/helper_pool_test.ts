/**
 * Robustness: one slow helper call no longer blocks every client's helper calls. The real daemon
 * (2 helper workers, CPAN_BRIDGE_HELPER_TIMEOUT=2) gets the 162-byte XPath on a
 * 700-element document from one client (it would run ~110 s); another client's
 * `xml_helper.escape_xml` is answered meanwhile, the stuck worker is replaced, and the first
 * client's document is reported lost.
 */

import assert from "node:assert/strict";
import { spawnDaemon } from "../_support/daemon.ts";
import { waitFor } from "../_support/wait.ts";
import { rawJson } from "../_support/raw.ts";

const SLOW_XPATH = "//*[count(//*[count(//*) > 0]) > 0]";

Deno.test({
  name: "a helper call stuck past the timeout blocks no other client and its worker is replaced",
  async fn() {
    const d = await spawnDaemon({
      env: { CPAN_BRIDGE_HELPER_TIMEOUT: "2", CPAN_BRIDGE_HELPER_WORKERS: "2" },
    });
    try {
      const xml = `<r>${"<e/>".repeat(699)}</r>`;
      const loaded = await rawJson(d.socket, {
        module: "xpath",
        function: "load_xml_string",
        params: { xml_string: xml },
        request_id: "1764590000_111_1",
      });
      assert.equal(loaded.success, true, JSON.stringify(loaded));
      const documentId = String(
        ((loaded.result as Record<string, unknown>).result as Record<string, unknown>).document_id,
      );
      assert.notEqual(documentId, "undefined", JSON.stringify(loaded));
      const t0 = performance.now();
      const slow = rawJson(d.socket, {
        module: "xpath",
        function: "find_nodes",
        params: { document_id: documentId, xpath: SLOW_XPATH },
        request_id: "1764590000_111_2",
      });
      // Wait (bounded) until the slow call is running: one active helper call in system.health.
      await waitFor(async () => {
        const h = await rawJson(d.socket, { module: "system", function: "health" });
        const checks =
          (h.result as { checks?: Record<string, { details?: Record<string, number> }> })
            ?.checks;
        return (checks?.thread_health?.details?.active_threads ?? 0) >= 1;
      }, { what: "the slow call to be running", deadlineMs: 10_000, logTail: d });
      let worst = 0;
      for (let i = 0; i < 5; i++) {
        const t = performance.now();
        // A call that needs a worker (datetime_helper.now would run inline, see inline.ts).
        const r = await rawJson(d.socket, {
          module: "xml_helper",
          function: "escape_xml",
          params: { value: `<${i}>` },
          request_id: `1764590000_222_${i}`,
        });
        worst = Math.max(worst, performance.now() - t);
        assert.equal(r.success, true, JSON.stringify(r));
      }
      assert.ok(worst < 1000, `another client's escape_xml took ${worst.toFixed(0)} ms`);
      const s = await slow;
      const slowMs = performance.now() - t0;
      assert.equal(s.error_type, "TimeoutError", JSON.stringify(s));
      await waitFor(
        async () =>
          /helper worker \d was restarted because xpath\.find_nodes ran past/.test(
            await Deno.readTextFile(`${d.dir}/cpan_daemon.log`),
          ),
        { what: "the restart line in the daemon log", deadlineMs: 10_000 },
      );
      // The first client's document lived in the replaced worker.
      const after = await rawJson(d.socket, {
        module: "xpath",
        function: "find_nodes",
        params: { document_id: documentId, xpath: "/r" },
        request_id: "1764590000_111_3",
      });
      assert.equal(after.success, false);
      assert.match(String(after.error), new RegExp(`handle ${documentId} was lost`));
      // deno-lint-ignore no-console -- the figures docs/robustness.md reports
      console.log(
        `slow call answered after ${slowMs.toFixed(0)} ms; worst other-client call ${
          worst.toFixed(0)
        } ms`,
      );
    } finally {
      assert.equal((await d.kill("SIGTERM")).code, 0);
      await Deno.remove(d.dir, { recursive: true }).catch(() => {});
    }
  },
});
