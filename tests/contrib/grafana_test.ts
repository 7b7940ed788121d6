/**
 * The shipped Grafana dashboard (contrib/grafana) against a real daemon's /metrics: every metric
 * it queries exists in the exposition, every label it groups by is on that metric, and every
 * query is valid PromQL (promtool check rules).
 */

import assert from "node:assert/strict";
import { createMonitorApp } from "../../src/http/monitor_app.ts";
import { startTestDaemon } from "../_support/daemon.ts";
import { rawJson } from "../_support/raw.ts";

const DASHBOARD = new URL("../../contrib/grafana/cpan-bridge-dashboard.json", import.meta.url);
/** Added by Prometheus at scrape time, not by the daemon. */
const SCRAPE_LABELS = new Set(["instance", "job"]);
const PROMQL_WORDS = new Set([
  "sum",
  "max",
  "min",
  "count",
  "rate",
  "increase",
  "topk",
  "histogram_quantile",
  "by",
  "label_values",
]);

interface Panel {
  title: string;
  targets: { expr: string }[];
}

async function dashboardExprs(): Promise<{ panel: string; expr: string }[]> {
  const d = JSON.parse(await Deno.readTextFile(DASHBOARD)) as {
    panels: Panel[];
    templating: { list: { definition: string }[] };
  };
  const out = d.panels.flatMap((p) => p.targets.map((t) => ({ panel: p.title, expr: t.expr })));
  for (const v of d.templating.list) out.push({ panel: "variable", expr: v.definition });
  return out;
}

/** Metric name → the label names its samples carry, from an exposition. */
function exposed(text: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const line of text.split("\n")) {
    const t = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (t) {
      const names = t[2] === "histogram"
        ? [`${t[1]}_bucket`, `${t[1]}_sum`, `${t[1]}_count`]
        : [t[1]!];
      for (const n of names) out.set(n, out.get(n) ?? new Set());
      continue;
    }
    const s = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? /.exec(line);
    if (s && !line.startsWith("#")) {
      const labels = out.get(s[1]!) ?? new Set<string>();
      for (const m of (s[2] ?? "").matchAll(/(\w+)="/g)) labels.add(m[1]!);
      out.set(s[1]!, labels);
    }
  }
  return out;
}

async function metricsText(): Promise<string> {
  await using td = await startTestDaemon();
  for (
    const req of [
      { module: "test", function: "ping", params: {}, request_id: "g1" },
      { module: "test", function: "echo", params: { x: "<script>" }, request_id: "g2" },
      { module: "no_such_module", function: "f", params: {} },
    ]
  ) await rawJson(td.socket, req);
  return await (await createMonitorApp(td.daemon.context).request("/metrics")).text();
}

Deno.test("Grafana dashboard queries only metrics and labels the daemon exposes", async () => {
  const metrics = exposed(await metricsText());
  const exprs = await dashboardExprs();
  assert.ok(exprs.length >= 20, `only ${exprs.length} queries`);
  const used = new Set<string>();
  for (const { panel, expr } of exprs) {
    const names = [...expr.matchAll(/\b([a-z_][a-z0-9_]*)\b(?=\s*[{[)]|\s*,|\s*$|\s*==)/g)]
      .map((m) => m[1]!)
      .filter((n) => !PROMQL_WORDS.has(n) && /^(cpan_bridge|process)_/.test(n));
    assert.ok(names.length > 0, `${panel}: no metric found in ${expr}`);
    for (const n of names) {
      used.add(n);
      assert.ok(metrics.has(n), `${panel}: ${n} is not in /metrics`);
      for (const g of expr.matchAll(/\bby \(([^)]*)\)/g)) {
        for (const label of g[1]!.split(",").map((l) => l.trim())) {
          if (SCRAPE_LABELS.has(label) || label === "le") continue;
          assert.ok(
            [...names].some((m) => metrics.get(m)?.has(label)),
            `${panel}: no metric in "${expr}" has the label ${label}`,
          );
        }
      }
    }
  }
  // The fleet view covers the alerting signals of docs/http.md.
  for (
    const n of [
      "cpan_bridge_health_status",
      "cpan_bridge_error_ratio",
      "cpan_bridge_cpu_ratio",
      "cpan_bridge_memory_bytes",
      "cpan_bridge_connections_stale",
      "cpan_bridge_security_alerts_total",
      "cpan_bridge_log_dropped_lines_total",
    ]
  ) assert.ok(used.has(n), `the dashboard does not show ${n}`);
});

Deno.test("Grafana dashboard queries are valid PromQL (promtool check rules)", async () => {
  const exprs = (await dashboardExprs()).filter((e) => e.panel !== "variable");
  const rules = [
    "groups:",
    "  - name: grafana-dashboard",
    "    rules:",
    ...exprs.flatMap((e, i) => [
      `      - record: dashboard:query_${i}`,
      `        expr: ${
        JSON.stringify(
          e.expr.replaceAll("$__rate_interval", "5m").replaceAll("$instance", ".*"),
        )
      }`,
    ]),
  ].join("\n");
  const file = await Deno.makeTempFile({ suffix: ".yml" });
  try {
    await Deno.writeTextFile(file, rules + "\n");
    const out = await new Deno.Command("promtool", { args: ["check", "rules", file] }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, text);
    assert.match(text, new RegExp(`SUCCESS: ${exprs.length} rules found`));
  } finally {
    await Deno.remove(file);
  }
});
