/**
 * @module
 * `createMonitorApp(d)`: the read-only monitoring API of one daemon as a Hono app: health probes,
 * Prometheus metrics, the `system.*` reports as JSON and a live dashboard page. It never listens
 * itself (`server.ts` does), never calls helpers and offers no way to stop the daemon.
 */

import { Hono } from "hono";
import { type DaemonContext, servedModules } from "../daemon_context.ts";
import { healthReport } from "../builtins/reports.ts";
import { runBuiltin } from "../builtins/mod.ts";
import { PROMETHEUS_CONTENT_TYPE, prometheusText } from "./prometheus.ts";
import { dashboardPage } from "./dashboard_page.ts";

/** Options of {@linkcode createMonitorApp}. */
export interface MonitorAppOptions {
  /**
   * Answer only requests whose `Host` is a loopback name (localhost, 127.0.0.1, [::1]). Set for a
   * loopback TCP listener, so a web page cannot reach it through DNS rebinding.
   */
  readonly loopbackHostOnly?: boolean;
}

/** The `system.*` built-ins served under `/api/`. */
const API_REPORTS = ["health", "metrics", "performance", "connections"] as const;

/** Paths the app serves; any other method on them is a 405. */
const ROUTES = ["/", "/healthz", "/readyz", "/metrics", ...API_REPORTS.map((r) => `/api/${r}`)];

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** Runs a `system.*` built-in and drops the ops-shim copies (`success`, `result`). */
async function report(d: DaemonContext, name: string): Promise<Record<string, unknown>> {
  const r = await runBuiltin(d, {
    module: "system",
    function: name,
    params: {},
    hasParams: true,
    requestId: "",
    livenessPing: false,
  }) as Record<string, unknown>;
  const { success: _s, result: _r, ...rest } = r;
  return rest;
}

/** Why the daemon is not ready, or undefined when it is. */
function notReadyReason(d: DaemonContext): string | undefined {
  if (d.stopping) return "daemon is stopping";
  const state = d.host.state();
  if (state === "loading") return "helper modules are still loading";
  if (state === "failed") return "helper modules failed to load; see the daemon log";
  return undefined;
}

/**
 * Builds the monitoring app of a daemon.
 *
 * @param d the running daemon
 * @param opts see {@linkcode MonitorAppOptions}
 * @returns a Hono app; serve it with `Deno.serve(..., app.fetch)` or call `app.request(path)`
 * @example
 * ```ts ignore
 * const app = createMonitorApp(daemon.context);
 * const res = await app.request("/metrics");
 * ```
 */
export function createMonitorApp(d: DaemonContext, opts: MonitorAppOptions = {}): Hono {
  const app = new Hono();

  app.use("*", async function monitorHeaders(c, next) {
    if (opts.loopbackHostOnly) {
      const host = (c.req.header("host") ?? new URL(c.req.url).host).replace(/:\d+$/, "")
        .toLowerCase();
      if (!LOOPBACK_HOSTS.has(host)) {
        return c.json({
          error:
            `Cannot serve Host '${host}': this monitor listens on loopback only; use http://127.0.0.1:<port>/ or set --http HOST:PORT`,
        }, 421);
      }
    }
    await next();
    c.header("Cache-Control", "no-store");
    c.header("X-Content-Type-Options", "nosniff");
  });

  app.get("/healthz", (c) => {
    const h = healthReport(d);
    return c.json(h, h.overall_status === "unhealthy" ? 503 : 200);
  });

  app.get("/readyz", (c) => {
    const reason = notReadyReason(d);
    return reason
      ? c.json({ ready: false, reason }, 503)
      : c.json({ ready: true, loaded_modules: servedModules(d) });
  });

  app.get(
    "/metrics",
    (c) => c.body(prometheusText(d), 200, { "Content-Type": PROMETHEUS_CONTENT_TYPE }),
  );

  for (const name of API_REPORTS) {
    app.get(`/api/${name}`, async (c) => c.json(await report(d, name)));
  }

  app.get("/", (c) => {
    c.header(
      "Content-Security-Policy",
      "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    c.header("Referrer-Policy", "no-referrer");
    return c.html(dashboardPage(d.config));
  });

  // Known paths with another method: 405 with Allow (GET routes also answer HEAD).
  for (const path of ROUTES) {
    app.all(path, (c) => {
      c.header("Allow", "GET, HEAD");
      return c.json(
        { error: `Method ${c.req.method} not allowed on ${path}: this API is read-only; use GET` },
        405,
      );
    });
  }

  app.notFound((c) =>
    c.json({
      error: `No such path ${c.req.path}; try /, /healthz, /readyz, /metrics or /api/{${
        API_REPORTS.join(",")
      }}`,
    }, 404)
  );

  app.onError((err, c) => {
    d.logs.daemon.error(
      `HTTP monitor: ${c.req.method} ${c.req.path} failed: ${
        err instanceof Error ? err.message : err
      }`,
    );
    return c.json({ error: `Internal error while serving ${c.req.path}; see the daemon log` }, 500);
  });

  return app;
}
