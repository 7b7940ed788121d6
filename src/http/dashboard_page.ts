/**
 * @module
 * The live dashboard page served at `GET /`: the operations guide's dashboard (performance,
 * resources, connections, security, modules) as one HTML document with inline CSS and JS, kept
 * in this string so it is part of the binary and loads nothing from elsewhere. The page polls
 * `api/metrics`, `api/health` and `api/performance` and updates in place.
 */

import type { Config } from "../config.ts";

/** Warning and critical levels shown on the page: the guide's alert tables, from the config. */
export function dashboardThresholds(c: Config) {
  return {
    memoryWarnMb: c.healthMemoryWarnMb,
    memoryCritMb: c.healthMemoryCritMb,
    cpuWarn: c.healthCpuWarn,
    cpuCrit: c.healthCpuCrit,
    errorRateWarn: c.healthErrorRateWarn,
    errorRateCrit: c.healthErrorRateCrit,
    responseTime: c.healthResponseTime,
    staleConnections: c.healthStaleConnections,
    activeConnections: 40,
  };
}

/**
 * The dashboard document for a daemon's configuration.
 *
 * @param c the daemon's configuration (for the thresholds)
 * @returns the HTML text
 */
export function dashboardPage(c: Config): string {
  const json = JSON.stringify(dashboardThresholds(c)).replace(/</g, "\\u003c");
  return PAGE.replace("__THRESHOLDS__", json);
}

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>CPAN Bridge daemon</title>
<style>
:root {
  --bg: #f4f5f7; --card: #fff; --fg: #1d2330; --muted: #667085; --line: #e3e6ec;
  --ok: #1a7f37; --warn: #b26b00; --crit: #c4271c; --accent: #2f5bd3;
  --ok-bg: #e6f4ea; --warn-bg: #fff4e0; --crit-bg: #fde8e6;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #12151b; --card: #1b2029; --fg: #e6e9ef; --muted: #98a2b3; --line: #2b3240;
    --ok: #4cc26b; --warn: #f0a92e; --crit: #ff6b5e; --accent: #7aa2ff;
    --ok-bg: #16331f; --warn-bg: #3a2b10; --crit-bg: #401a17;
  }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: var(--bg); color: var(--fg);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
header {
  display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1rem;
  padding: .9rem 1rem; background: var(--card); border-bottom: 1px solid var(--line);
  position: sticky; top: 0; z-index: 1;
}
h1 { font-size: 1.1rem; margin: 0; font-weight: 650; }
.meta { color: var(--muted); font-size: .85rem; display: flex; flex-wrap: wrap; gap: .2rem .9rem; }
.pill {
  display: inline-block; padding: .15rem .6rem; border-radius: 999px; font-size: .8rem;
  font-weight: 650; text-transform: uppercase; letter-spacing: .03em;
  background: var(--line); color: var(--muted);
}
.pill[data-state="ok"] { background: var(--ok-bg); color: var(--ok); }
.pill[data-state="warn"] { background: var(--warn-bg); color: var(--warn); }
.pill[data-state="crit"] { background: var(--crit-bg); color: var(--crit); }
#banner {
  display: none; margin: 1rem 1rem 0; padding: .6rem .8rem; border-radius: 8px;
  background: var(--crit-bg); color: var(--crit); font-weight: 600;
}
#banner.show { display: block; }
main {
  display: grid; gap: 1rem; padding: 1rem;
  grid-template-columns: repeat(auto-fit, minmax(min(100%, 290px), 1fr));
  max-width: 1400px; margin: 0 auto;
}
section {
  background: var(--card); border: 1px solid var(--line); border-radius: 12px;
  padding: .9rem 1rem; min-width: 0;
}
section.wide { grid-column: 1 / -1; }
h2 {
  margin: 0 0 .6rem; font-size: .78rem; letter-spacing: .08em; text-transform: uppercase;
  color: var(--muted); font-weight: 700;
}
dl { display: grid; grid-template-columns: 1fr auto; gap: .35rem .75rem; margin: 0; }
dt { color: var(--muted); }
dd { margin: 0; text-align: right; font-variant-numeric: tabular-nums; font-weight: 600; }
dd.big { font-size: 1.6rem; line-height: 1.1; }
[data-state="warn"] { color: var(--warn); }
[data-state="crit"] { color: var(--crit); }
dd[data-state="warn"]::after { content: " \\25B2"; font-size: .7em; }
dd[data-state="crit"]::after { content: " \\25CF"; font-size: .7em; }
svg.spark { width: 100%; height: 42px; display: block; margin-top: .6rem; }
svg.spark polyline { fill: none; stroke: var(--accent); stroke-width: 2; vector-effect: non-scaling-stroke; }
.chips { display: flex; flex-wrap: wrap; gap: .35rem; margin-top: .5rem; }
.chip {
  padding: .12rem .55rem; border-radius: 6px; background: var(--bg); border: 1px solid var(--line);
  font: .82rem ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
}
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: .35rem .4rem; border-bottom: 1px solid var(--line); text-align: right; }
th:first-child, td:first-child { text-align: left; word-break: break-all; }
th { color: var(--muted); font-weight: 600; font-size: .8rem; }
.scroll { overflow-x: auto; }
ul.notes { margin: .2rem 0 0; padding-left: 1.1rem; }
ul.notes li[data-state] { font-weight: 600; }
.empty { color: var(--muted); }
footer { color: var(--muted); font-size: .8rem; text-align: center; padding: 0 1rem 1.2rem; }
a { color: var(--accent); }
.caption { color: var(--muted); font-size: .75rem; margin-top: .2rem; }
@media (max-width: 480px) {
  body { font-size: 14px; }
  main { padding: .6rem; gap: .6rem; }
  header { padding: .7rem .6rem; }
  dd.big { font-size: 1.35rem; }
}
</style>
</head>
<body>
<header>
  <h1>CPAN Bridge daemon</h1>
  <span class="pill" id="status">loading</span>
  <div class="meta">
    <span>v<span id="version">-</span></span>
    <span>up <span id="uptime">-</span></span>
    <span>updated <span id="updated">-</span></span>
  </div>
</header>
<div id="banner" role="alert"></div>
<main>
  <section id="performance">
    <h2>Performance</h2>
    <dl>
      <dt>Total requests</dt><dd class="big" id="total-requests">-</dd>
      <dt>Requests/sec</dt><dd id="rps">-</dd>
      <dt>Avg response</dt><dd id="avg">-</dd>
      <dt>P95 response</dt><dd id="p95">-</dd>
      <dt>Error rate</dt><dd id="error-rate">-</dd>
    </dl>
    <svg class="spark" id="spark" viewBox="0 0 100 40" preserveAspectRatio="none" aria-label="requests per interval"><polyline points=""/></svg>
    <div class="caption">requests per refresh</div>
  </section>
  <section id="resources">
    <h2>Resources</h2>
    <dl>
      <dt>Memory</dt><dd class="big" id="memory">-</dd>
      <dt>CPU</dt><dd id="cpu">-</dd>
      <dt>Load</dt><dd id="rpm">-</dd>
      <dt>Concurrent</dt><dd id="concurrent">-</dd>
      <dt>Peak memory</dt><dd id="peak-memory">-</dd>
    </dl>
  </section>
  <section id="connections">
    <h2>Connections</h2>
    <dl>
      <dt>Active</dt><dd class="big" id="conn-active">-</dd>
      <dt>Stale</dt><dd id="conn-stale">-</dd>
      <dt>Open</dt><dd id="conn-total">-</dd>
      <dt>Accepted since start</dt><dd id="conn-accepted">-</dd>
      <dt>Peak</dt><dd id="conn-peak">-</dd>
    </dl>
  </section>
  <section id="security">
    <h2>Security</h2>
    <dl>
      <dt>Events</dt><dd class="big" id="sec-events">-</dd>
      <dt>Rejected requests</dt><dd id="sec-rejected">-</dd>
      <dt>Validation failures</dt><dd id="sec-validation">-</dd>
      <dt>Alerts</dt><dd id="sec-alerts">-</dd>
      <dt>Dropped log lines</dt><dd id="log-dropped">-</dd>
    </dl>
  </section>
  <section id="health" class="wide">
    <h2>Health</h2>
    <ul class="notes" id="health-notes"><li class="empty">-</li></ul>
  </section>
  <section id="modules" class="wide">
    <h2>Modules: <span id="module-count">-</span> loaded</h2>
    <div class="chips" id="module-list"></div>
  </section>
  <section id="functions" class="wide">
    <h2>Busiest functions</h2>
    <div class="scroll"><table>
      <thead><tr><th>Function</th><th>Requests</th><th>Avg ms</th><th>Errors %</th></tr></thead>
      <tbody id="top-functions"><tr><td class="empty" colspan="4">no requests yet</td></tr></tbody>
    </table></div>
  </section>
</main>
<footer>Read-only view. Prometheus metrics at <a href="metrics">/metrics</a>; probes at <a href="healthz">/healthz</a> and <a href="readyz">/readyz</a>.</footer>
<script>
"use strict";
const T = __THRESHOLDS__;
const params = new URLSearchParams(location.search);
const INTERVAL_MS = Math.max(1, Number(params.get("interval")) || 3) * 1000;
const $ = (id) => document.getElementById(id);
const num = (v) => (typeof v === "number" && isFinite(v) ? v : Number(v) || 0);
const grade = (v, warn, crit) => (crit !== undefined && v > crit ? "crit" : v > warn ? "warn" : "");
const history = [];
let lastTotal;

function set(id, text, state) {
  const el = $(id);
  el.textContent = text;
  if (state) el.dataset.state = state; else delete el.dataset.state;
}

async function getJson(path) {
  const r = await fetch(path, { cache: "no-store", headers: { accept: "application/json" } });
  if (!r.ok) throw new Error(path + ": HTTP " + r.status);
  return r.json();
}

function fmtMs(seconds) {
  return (num(seconds) * 1000).toFixed(1) + " ms";
}

function renderMetrics(m) {
  const info = m.daemon_info || {}, perf = m.performance_metrics || {};
  const res = m.resource_status || {}, conn = m.connection_summary || {};
  const sec = m.security_summary || {}, mods = m.module_status || {};
  const stats = m.system_stats || {}, logs = m.log_status || {};
  set("version", info.version || "-");
  set("uptime", info.uptime_formatted || "-");
  set("updated", new Date().toLocaleTimeString());

  const total = num(perf.total_requests);
  set("total-requests", String(total));
  set("rps", num(perf.requests_per_second).toFixed(2));
  set("avg", fmtMs(perf.avg_response_time), num(perf.avg_response_time) > T.responseTime ? "warn" : "");
  set("p95", fmtMs(perf.p95_response_time));
  const er = num(perf.error_rate);
  set("error-rate", (er * 100).toFixed(1) + " %", grade(er, T.errorRateWarn, T.errorRateCrit));
  history.push(lastTotal === undefined ? 0 : Math.max(0, total - lastTotal));
  lastTotal = total;
  if (history.length > 60) history.shift();
  drawSpark();

  const mem = num(res.memory_mb), cpu = num(res.cpu_percent);
  set("memory", mem.toFixed(1) + " MB", grade(mem, T.memoryWarnMb, T.memoryCritMb));
  set("cpu", cpu.toFixed(1) + " %", grade(cpu, T.cpuWarn, T.cpuCrit));
  set("rpm", num(res.requests_per_minute) + " req/min");
  set("concurrent", String(num(res.concurrent_requests)));
  set("peak-memory", num(res.peak_memory).toFixed(1) + " MB");

  const active = num(conn.active_connections), stale = num(conn.stale_connections);
  set("conn-active", String(active), active > T.activeConnections ? "warn" : "");
  set("conn-stale", String(stale), stale > T.staleConnections ? "warn" : "");
  set("conn-total", String(num(conn.total_connections)));
  set("conn-accepted", String(num(stats.connections_total)));
  set("conn-peak", String(num(stats.peak_connections)));

  const events = num(sec.total_security_events), rejected = num(sec.requests_rejected);
  set("sec-events", String(events), events > 0 ? "warn" : "");
  set("sec-rejected", String(rejected), rejected > 0 ? "warn" : "");
  set("sec-validation", String(num(sec.validation_failures)));
  set("sec-alerts", String(num(sec.security_alerts)), num(sec.security_alerts) > 0 ? "crit" : "");
  set("log-dropped", String(num(logs.dropped_lines)), num(logs.dropped_lines) > 0 ? "warn" : "");

  const names = Array.isArray(mods.available_modules) ? mods.available_modules : [];
  set("module-count", String(num(mods.loaded_modules)));
  $("module-list").replaceChildren(...names.map((n) => {
    const s = document.createElement("span");
    s.className = "chip";
    s.textContent = String(n);
    return s;
  }));
}

function renderHealth(h) {
  const status = String(h.overall_status || "unknown");
  const pill = $("status");
  pill.textContent = status;
  pill.dataset.state = status === "healthy" ? "ok" : status === "degraded" ? "warn" : "crit";
  const items = [
    ...(h.errors || []).map((t) => [t, "crit"]),
    ...(h.warnings || []).map((t) => [t, "warn"]),
  ];
  const list = $("health-notes");
  if (!items.length) {
    const li = document.createElement("li");
    li.className = "empty";
    li.textContent = "All checks pass";
    list.replaceChildren(li);
    return;
  }
  list.replaceChildren(...items.map(([text, state]) => {
    const li = document.createElement("li");
    li.textContent = String(text);
    li.dataset.state = state;
    return li;
  }));
}

function renderPerformance(p) {
  const top = (p.module_performance && p.module_performance.top_modules) || [];
  const body = $("top-functions");
  if (!top.length) return;
  body.replaceChildren(...top.map((f) => {
    const tr = document.createElement("tr");
    for (const v of [f.module_function, num(f.requests), num(f.avg_time_ms).toFixed(2), num(f.error_rate).toFixed(1)]) {
      const td = document.createElement("td");
      td.textContent = String(v);
      tr.append(td);
    }
    if (num(f.error_rate) > T.errorRateCrit * 100) tr.dataset.state = "crit";
    else if (num(f.error_rate) > T.errorRateWarn * 100) tr.dataset.state = "warn";
    return tr;
  }));
}

function drawSpark() {
  const max = Math.max(1, ...history);
  const n = Math.max(2, history.length);
  const pts = history.map((v, i) => (i * 100 / (n - 1)).toFixed(1) + "," + (38 - v * 36 / max).toFixed(1));
  $("spark").firstElementChild.setAttribute("points", pts.join(" "));
}

async function refresh() {
  try {
    const [m, h, p] = await Promise.all([getJson("api/metrics"), getJson("api/health"), getJson("api/performance")]);
    renderMetrics(m);
    renderHealth(h);
    renderPerformance(p);
    $("banner").classList.remove("show");
  } catch (err) {
    const b = $("banner");
    b.textContent = "Cannot reach the daemon: " + (err && err.message ? err.message : err) + "; retrying";
    b.classList.add("show");
    const pill = $("status");
    pill.textContent = "unreachable";
    pill.dataset.state = "crit";
  } finally {
    setTimeout(refresh, INTERVAL_MS);
  }
}
refresh();
</script>
</body>
</html>
`;
