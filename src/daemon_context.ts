/**
 * @module
 * `DaemonContext`: the parts of one running daemon that request handling and the built-ins read.
 * `daemon.ts` builds it; tests build one around a fake clock.
 */

import type { Clock } from "./sdk/clock.ts";
import type { Config } from "./config.ts";
import type { HelperHost } from "./host/types.ts";
import type { Logs } from "./log/mod.ts";
import type { ConnectionTracker } from "./ops/connections.ts";
import type { PerformanceMonitor } from "./ops/performance.ts";
import type { ResourceMonitor } from "./ops/resources.ts";
import type { SecurityMonitor } from "./ops/security.ts";
import type { Stats } from "./ops/stats.ts";
import type { Throttle } from "./ops/throttle.ts";
import { buildWhitelist } from "./protocol/whitelist.ts";
import { helperEntry, MODULE_NAMES } from "../helpers/registry.ts";

export interface DaemonContext {
  readonly config: Config;
  readonly clock: Clock;
  readonly logs: Logs;
  readonly stats: Stats;
  readonly perf: PerformanceMonitor;
  readonly security: SecurityMonitor;
  readonly connections: ConnectionTracker;
  readonly resources: ResourceMonitor;
  readonly throttle: Throttle;
  readonly host: HelperHost;
  /** Path clients connect to. */
  readonly socketPath: string;
  /** How the binary was started, for system.info. */
  readonly executable: string;
  /** Requests being handled right now (read to reply). */
  inFlight: number;
  /** Asks the daemon to stop (system.shutdown, signals). */
  requestShutdown(reason: string): void;
  /** True once shutdown has begun. */
  readonly stopping: boolean;
}

/**
 * The whitelist: the registry's (helpers/registry.ts, known without any helper loaded) plus the
 * functions of any helper outside the registry that the host reports (test-only helpers).
 */
export function whitelistOf(d: DaemonContext): Map<string, ReadonlySet<string>> {
  return buildWhitelist(d.host.functions());
}

/**
 * The helper modules the daemon serves (wire names, aliases included, in load order): every
 * registry module, then any other the host reports (test-only helpers). None while the host is
 * still starting or has failed, as `test.health` and `system.info` have always reported.
 */
export function servedModules(d: DaemonContext): readonly string[] {
  if (d.host.state() !== "ready") return [];
  const extra = d.host.modules().filter((m) => !helperEntry(m));
  return extra.length === 0 ? MODULE_NAMES : [...MODULE_NAMES, ...extra];
}
