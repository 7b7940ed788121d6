/**
 * docs/http.md stays true: its Prometheus config and alert rules pass promtool, and every metric
 * the rules use is one the daemon exports.
 */

import assert from "node:assert/strict";
import { createMonitorApp } from "../../src/http/monitor_app.ts";
import { ROOT, startTestDaemon } from "../_support/daemon.ts";

/** The body of the fenced yaml block whose first line is `# <name>`. */
function yamlBlock(md: string, name: string): string {
  const m = new RegExp("```yaml\\n# " + name.replace(/\./g, "\\.") + "\\n([\\s\\S]*?)```").exec(
    md,
  );
  assert.ok(m, `no yaml block for ${name} in docs/http.md`);
  return m[1]!;
}

async function promtool(...args: string[]): Promise<{ code: number; output: string }> {
  const out = await new Deno.Command("promtool", { args, stdout: "piped", stderr: "piped" })
    .output();
  const dec = new TextDecoder();
  return { code: out.code, output: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

Deno.test("docs/http.md Prometheus config and alert rules pass promtool", async () => {
  const md = await Deno.readTextFile(`${ROOT}/docs/http.md`);
  const dir = await Deno.makeTempDir({ prefix: "cpan-bridge-prom-" });
  try {
    await Deno.writeTextFile(`${dir}/prometheus.yml`, yamlBlock(md, "prometheus.yml"));
    const rules = yamlBlock(md, "cpan_bridge_rules.yml");
    await Deno.writeTextFile(`${dir}/cpan_bridge_rules.yml`, rules);
    const config = await promtool("check", "config", `${dir}/prometheus.yml`);
    assert.equal(config.code, 0, config.output);
    const checked = await promtool("check", "rules", `${dir}/cpan_bridge_rules.yml`);
    assert.equal(checked.code, 0, checked.output);
    assert.match(checked.output, /SUCCESS: 11 rules found/);

    // Every cpan_bridge_* name in the rules is exported.
    await using td = await startTestDaemon();
    td.daemon.context.perf.record(Date.now(), "test.echo", 0.001, true);
    const text = await (await createMonitorApp(td.daemon.context).request("/metrics")).text();
    const exported = new Set(
      [...text.matchAll(/^# TYPE (\S+) (\w+)$/gm)].flatMap(([, n, t]) =>
        t === "histogram" ? [`${n}_sum`, `${n}_count`, `${n}_bucket`] : [n!]
      ),
    );
    const used = new Set(rules.match(/\bcpan_bridge_[a-z_]+/g));
    for (const name of used) assert.ok(exported.has(name), `${name} is not exported`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
