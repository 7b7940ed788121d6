/**
 * @module
 * `CONFIG_KEYS`, the one table of cpan-bridge's settings: for each key its environment variable,
 * how its value is read, its default and its meaning. Close to 400 lines on purpose: it is one
 * table of data, one row per setting, read by `loadConfig()` (`src/config.ts`) and by every listing of
 * the settings; splitting it would only scatter the rows.
 */

/** How a value is read: see `parseValue` in `src/config.ts`. `flag` is true only for "1" and never an error. */
export type Kind = "string" | "int" | "float" | "bool" | "flag" | "mode" | "enum";

/** One row of the table. */
export interface KeyDef {
  readonly env: string;
  readonly kind: Kind;
  readonly default: string;
  readonly doc: string;
  readonly choices?: readonly string[];
  /**
   * Set by cpan-bridge for itself, not by operators: `--print-config` and the report's settings
   * leave it out, the doctor knows its name.
   */
  readonly internal?: true;
}

/**
 * Every configuration key. `--print-config`, the doctor, the report and the docs walk this table;
 * the keys marked `internal` come last.
 */
export const CONFIG_KEYS = {
  socketPath: {
    env: "CPAN_BRIDGE_SOCKET",
    kind: "string",
    default: "/tmp/cpan_bridge.sock",
    doc: "Unix socket path (contract §2.1); an empty value means the default, as in the client",
  },
  socketMode: {
    env: "CPAN_BRIDGE_SOCKET_MODE",
    kind: "mode",
    default: "0600",
    doc: "permissions of the socket file, applied before anyone can connect",
  },
  socketGroup: {
    env: "CPAN_BRIDGE_SOCKET_GROUP",
    kind: "string",
    default: "",
    doc: "group (name or gid) given to the socket file, to share the daemon with a group",
  },
  logDir: {
    env: "CPAN_BRIDGE_LOG_DIR",
    kind: "string",
    default: "",
    doc: "directory of cpan_daemon.log and cpan_security.log; empty: $TMPDIR, $TEMP, $TMP or /tmp",
  },
  daemonLog: {
    env: "CPAN_BRIDGE_DAEMON_LOG",
    kind: "string",
    default: "",
    doc: "daemon log path; empty: <log dir>/cpan_daemon.log; '-' writes to stderr",
  },
  securityLog: {
    env: "CPAN_BRIDGE_SECURITY_LOG",
    kind: "string",
    default: "",
    doc: "security log path; empty: <log dir>/cpan_security.log; '-' writes to stderr",
  },
  logFormat: {
    env: "CPAN_BRIDGE_LOG_FORMAT",
    kind: "enum",
    default: "text",
    choices: ["text", "json"],
    doc: "text: the Python daemon's line formats (contract §7); json: one JSON object per line",
  },
  logMaxBytes: {
    env: "CPAN_BRIDGE_LOG_MAX_BYTES",
    kind: "int",
    default: "52428800",
    doc: "rotate a log when it would grow past this many bytes (0: never rotate)",
  },
  logKeep: {
    env: "CPAN_BRIDGE_LOG_KEEP",
    kind: "int",
    default: "5",
    doc: "rotated files kept per log (<name>.1 … <name>.N)",
  },
  logCompress: {
    env: "CPAN_BRIDGE_LOG_COMPRESS",
    kind: "bool",
    default: "0",
    doc: "gzip rotated log files (<name>.N.gz)",
  },
  logBufferLines: {
    env: "CPAN_BRIDGE_LOG_BUFFER_LINES",
    kind: "int",
    default: "10000",
    doc:
      "log lines held in memory while the disk is slow; past this, lines are dropped and counted",
  },
  debug: {
    env: "CPAN_BRIDGE_DEBUG",
    kind: "int",
    default: "0",
    doc: "> 0: DEBUG lines in the daemon log; >= 1: stack traces in error replies",
  },
  maxConnections: {
    env: "CPAN_BRIDGE_MAX_CONNECTIONS",
    kind: "int",
    default: "100",
    doc:
      "connections served at once; more are accepted and wait for a slot (pings, test.* and system.* are answered at once)",
  },
  connectionWait: {
    env: "CPAN_BRIDGE_CONNECTION_WAIT",
    kind: "float",
    default: "30",
    doc:
      "seconds a helper call over CPAN_BRIDGE_MAX_CONNECTIONS waits for a slot before a 'Too many connections' error",
  },
  maxQueuedConnections: {
    env: "CPAN_BRIDGE_MAX_QUEUED_CONNECTIONS",
    kind: "int",
    default: "100",
    doc:
      "connections accepted beyond CPAN_BRIDGE_MAX_CONNECTIONS to wait; past it the daemon stops accepting until one closes",
  },
  maxRequestSize: {
    env: "CPAN_BRIDGE_MAX_REQUEST_SIZE",
    kind: "int",
    default: "10485760",
    doc: "request byte cap, enforced as bytes arrive (contract §2.5)",
  },
  readTimeout: {
    env: "CPAN_BRIDGE_READ_TIMEOUT",
    kind: "float",
    default: "30",
    doc: "seconds a connection may stay silent while its request is incomplete",
  },
  requestDeadline: {
    env: "CPAN_BRIDGE_REQUEST_DEADLINE",
    kind: "float",
    default: "60",
    doc:
      "seconds from accept by which the whole request must have arrived, however steadily it trickles in",
  },
  maxReplySize: {
    env: "CPAN_BRIDGE_MAX_REPLY_SIZE",
    kind: "int",
    default: "268435456",
    doc: "reply byte cap; a larger reply is replaced by a 'Reply too large' error reply",
  },
  writeTimeout: {
    env: "CPAN_BRIDGE_WRITE_TIMEOUT",
    kind: "float",
    default: "60",
    doc:
      "seconds a client has to read its whole reply; past it the daemon closes the connection and frees the reply",
  },
  connectionTimeout: {
    env: "CPAN_BRIDGE_TIMEOUT",
    kind: "int",
    default: "1800",
    doc: "reported as configuration.connection_timeout in system.info (contract §4.4)",
  },
  helperTimeout: {
    env: "CPAN_BRIDGE_HELPER_TIMEOUT",
    kind: "float",
    default: "600",
    doc: "seconds a helper call may run before its caller gets a timeout error",
  },
  helperWorkers: {
    env: "CPAN_BRIDGE_HELPER_WORKERS",
    kind: "int",
    default: "2",
    doc:
      "helper worker threads; a client process's calls (and handles) stay on one, a worker stuck past the timeout is replaced",
  },
  helperWorkerIdle: {
    env: "CPAN_BRIDGE_HELPER_WORKER_IDLE",
    kind: "int",
    default: "60",
    doc:
      "seconds after which a helper worker with no open handle and no call stops, until the next call needs it (0: never)",
  },
  allowedPaths: {
    env: "CPAN_BRIDGE_ALLOWED_PATHS",
    kind: "string",
    default: "",
    doc:
      "colon-separated directories helpers may read and write files in; empty: anywhere the daemon user may",
  },
  maxFileBytes: {
    env: "CPAN_BRIDGE_MAX_FILE_BYTES",
    kind: "int",
    default: "104857600",
    doc: "largest file a helper reads whole (XML sources, key files, attachments, log configs)",
  },
  handleTtl: {
    env: "CPAN_BRIDGE_HANDLE_TTL",
    kind: "float",
    default: "3600",
    doc: "seconds an unused helper handle (connection, cipher, document…) is kept",
  },
  maxHandlesPerClient: {
    env: "CPAN_BRIDGE_MAX_HANDLES_PER_CLIENT",
    kind: "int",
    default: "1000",
    doc:
      "open helper handles of one kind (connections, documents, ciphers…) one client process may hold at once; past it, opening one more is an error (0: no limit)",
  },
  cleanupInterval: {
    env: "CPAN_BRIDGE_CLEANUP_INTERVAL",
    kind: "float",
    default: "300",
    doc: "seconds between housekeeping runs (stale connections, helper handles)",
  },
  staleTimeout: {
    env: "CPAN_BRIDGE_STALE_TIMEOUT",
    kind: "float",
    default: "300",
    doc: "seconds after which an idle connection counts as stale",
  },
  resourceCheckInterval: {
    env: "CPAN_BRIDGE_RESOURCE_CHECK_INTERVAL",
    kind: "float",
    default: "60",
    doc: "seconds between resource log lines (CPU and RSS are sampled every 2 s)",
  },
  maxMemoryMb: {
    env: "CPAN_BRIDGE_MAX_MEMORY_MB",
    kind: "int",
    default: "1024",
    doc: "memory limit (MB RSS) for resource violations; warning at 80 %",
  },
  maxCpuPercent: {
    env: "CPAN_BRIDGE_MAX_CPU_PERCENT",
    kind: "float",
    default: "200.0",
    doc: "CPU limit (% of one core) for resource violations; warning at 80 %",
  },
  maxRequestsPerMinute: {
    env: "CPAN_BRIDGE_MAX_REQUESTS_PER_MINUTE",
    kind: "int",
    default: "2000",
    doc:
      "request rate reported as a resource violation (system.health/metrics, the log); not enforced, see CPAN_BRIDGE_THROTTLE_PER_MINUTE",
  },
  maxConcurrentRequests: {
    env: "CPAN_BRIDGE_MAX_CONCURRENT_REQUESTS",
    kind: "int",
    default: "100",
    doc: "helper calls running at once; more wait in a bounded queue",
  },
  throttleWait: {
    env: "CPAN_BRIDGE_THROTTLE_WAIT",
    kind: "float",
    default: "60",
    doc: "seconds a throttled helper call may wait before it gets a 'Server busy' error",
  },
  throttlePerMinute: {
    env: "CPAN_BRIDGE_THROTTLE_PER_MINUTE",
    kind: "int",
    default: "0",
    doc:
      "helper calls admitted per minute, shared fairly between clients (claimed PID); past it calls wait (bounded); 0: no cap",
  },
  maxStringLength: {
    env: "CPAN_BRIDGE_MAX_STRING_LENGTH",
    kind: "int",
    default: "10485760",
    doc: "longest string accepted (characters); longer strings are refused, never truncated",
  },
  maxArrayLength: {
    env: "CPAN_BRIDGE_MAX_ARRAY_LENGTH",
    kind: "int",
    default: "1000000",
    doc: "longest array accepted; longer arrays are refused, never truncated",
  },
  maxObjectDepth: {
    env: "CPAN_BRIDGE_MAX_OBJECT_DEPTH",
    kind: "int",
    default: "64",
    doc: "deepest nesting of params accepted",
  },
  maxParamCount: {
    env: "CPAN_BRIDGE_MAX_PARAM_COUNT",
    kind: "int",
    default: "100",
    doc: "most top-level request keys (contract §5.1)",
  },
  strictValidation: {
    env: "CPAN_BRIDGE_STRICT_VALIDATION",
    kind: "bool",
    default: "1",
    doc: "reported as validation_config.strict_mode",
  },
  encoding: {
    env: "CPAN_BRIDGE_ENCODING",
    kind: "enum",
    default: "repair",
    choices: ["repair", "exact"],
    doc: "repair: undo the client's double UTF-8 encoding, reply in ASCII JSON (contract §2.6 B)",
  },
  opsShim: {
    env: "CPAN_BRIDGE_OPS_SHIM",
    kind: "bool",
    default: "1",
    doc: "add success and result copies inside system.* results so the guide's one-liners work",
  },
  allowShutdown: {
    env: "CPAN_BRIDGE_ALLOW_SHUTDOWN",
    kind: "enum",
    default: "owner",
    choices: ["owner", "always", "never"],
    doc: "system.shutdown: owner = only while the socket is owner-only (mode 0600/0700)",
  },
  healthCpuWarn: {
    env: "CPAN_BRIDGE_HEALTH_CPU_WARN",
    kind: "float",
    default: "80",
    doc: "health: CPU % above which the daemon is degraded",
  },
  healthCpuCrit: {
    env: "CPAN_BRIDGE_HEALTH_CPU_CRIT",
    kind: "float",
    default: "95",
    doc: "health: CPU % above which the daemon is unhealthy",
  },
  healthMemoryWarnMb: {
    env: "CPAN_BRIDGE_HEALTH_MEMORY_WARN_MB",
    kind: "float",
    default: "500",
    doc: "health: RSS MB above which the daemon is degraded",
  },
  healthMemoryCritMb: {
    env: "CPAN_BRIDGE_HEALTH_MEMORY_CRIT_MB",
    kind: "float",
    default: "1000",
    doc: "health: RSS MB above which the daemon is unhealthy",
  },
  healthErrorRateWarn: {
    env: "CPAN_BRIDGE_HEALTH_ERROR_RATE_WARN",
    kind: "float",
    default: "0.05",
    doc: "health: error rate (fraction of the last 100 requests) above which it is degraded",
  },
  healthErrorRateCrit: {
    env: "CPAN_BRIDGE_HEALTH_ERROR_RATE_CRIT",
    kind: "float",
    default: "0.10",
    doc: "health: error rate above which the daemon is unhealthy",
  },
  healthResponseTime: {
    env: "CPAN_BRIDGE_HEALTH_RESPONSE_TIME",
    kind: "float",
    default: "1.0",
    doc: "health: average response time (s) above which the daemon is degraded",
  },
  healthStaleConnections: {
    env: "CPAN_BRIDGE_HEALTH_STALE_CONNECTIONS",
    kind: "int",
    default: "5",
    doc: "health: stale connections above which the daemon is degraded",
  },
  httpListen: {
    env: "CPAN_BRIDGE_HTTP",
    kind: "string",
    default: "",
    doc: "monitoring HTTP listener: PORT, HOST:PORT or an absolute Unix socket path; empty: off",
  },
  allowForeignDaemon: {
    env: "CPAN_BRIDGE_ALLOW_FOREIGN_DAEMON",
    kind: "bool",
    default: "0",
    doc:
      "client commands (--health, status, call, …) talk to a daemon whose socket another user owns (else they refuse)",
  },
  httpMaxConnections: {
    env: "CPAN_BRIDGE_HTTP_MAX_CONNECTIONS",
    kind: "int",
    default: "64",
    doc: "HTTP monitor: connections served at once; clients past it get a 503 and are closed",
  },
  httpHeaderTimeout: {
    env: "CPAN_BRIDGE_HTTP_HEADER_TIMEOUT",
    kind: "float",
    default: "10",
    doc: "HTTP monitor: seconds a client has to send its request before it is disconnected",
  },
  selfBinary: {
    env: "CPAN_BRIDGE_SELF",
    kind: "string",
    default: "",
    internal: true,
    doc:
      "internal: the single binary's path, set by its launcher so the program can start itself again (docs/binary.md)",
  },
  detached: {
    env: "CPAN_BRIDGE_DETACHED",
    kind: "flag",
    default: "",
    internal: true,
    doc:
      "internal: 1 in the daemon a drop-in start (cpan_daemon.py) detached, so it does not detach again",
  },
} as const satisfies Record<string, KeyDef>;
