/**
 * @module
 * Log::Log4perl's PatternLayout (`%d %p %c %m%n`, with `%-5p`-style padding and `%d{…}` date
 * formats) and its level table. Times are the daemon's local time.
 */

/** Log4perl's numeric levels. */
export const LEVELS: Readonly<Record<string, number>> = {
  ALL: 0,
  TRACE: 5000,
  DEBUG: 10000,
  INFO: 20000,
  WARN: 30000,
  ERROR: 40000,
  FATAL: 50000,
  OFF: 2 ** 31 - 1,
};

/** A level name (any case; WARNING and CRITICAL accepted) → its canonical name, or undefined. */
export function levelName(v: unknown): string | undefined {
  if (typeof v === "number") {
    return Object.keys(LEVELS).find((k) => LEVELS[k] === v);
  }
  const s = String(v ?? "").trim().toUpperCase();
  if (s === "WARNING") return "WARN";
  if (s === "CRITICAL") return "FATAL";
  return Object.hasOwn(LEVELS, s) ? s : undefined;
}

/** What a layout can print about one event. */
export interface LogEvent {
  readonly category: string;
  readonly level: string;
  readonly message: string;
  readonly time: Date;
  readonly filename: string;
  readonly line: number | string;
  readonly package: string;
  readonly pid: number;
  readonly hostname: string;
  /** Milliseconds since the logger was initialised (Log4perl: since program start). */
  readonly elapsedMs: number;
}

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

/** Log::Log4perl::DateFormat: the SimpleDateFormat letters Log4perl supports. */
export function formatDate(fmt: string, d: Date): string {
  return fmt.replace(/(y+|M+|d+|H+|h+|m+|s+|S+|E+|a+|Z+|k+|K+|D+)|'([^']*)'/g, (all, tok, lit) => {
    if (lit !== undefined) return lit === "" ? "'" : lit;
    const n = tok.length;
    switch (tok[0]) {
      case "y":
        return n === 2 ? pad(d.getFullYear() % 100, 2) : pad(d.getFullYear(), n);
      case "M":
        return n >= 4
          ? MONTHS[d.getMonth()]!
          : n === 3
          ? MONTHS[d.getMonth()]!.slice(0, 3)
          : pad(d.getMonth() + 1, n);
      case "d":
        return pad(d.getDate(), n);
      case "H":
        return pad(d.getHours(), n);
      case "k":
        return pad(d.getHours() || 24, n);
      case "h":
        return pad(d.getHours() % 12 || 12, n);
      case "K":
        return pad(d.getHours() % 12, n);
      case "m":
        return pad(d.getMinutes(), n);
      case "s":
        return pad(d.getSeconds(), n);
      case "S":
        return pad(d.getMilliseconds(), 3).padEnd(n, "0").slice(0, n);
      case "E":
        return n >= 4 ? DAYS[d.getDay()]! : DAYS[d.getDay()]!.slice(0, 3);
      case "a":
        return d.getHours() < 12 ? "AM" : "PM";
      case "D": {
        const start = new Date(d.getFullYear(), 0, 1);
        return pad(Math.floor((d.getTime() - start.getTime()) / 86_400_000) + 1, n);
      }
      case "Z": {
        const off = -d.getTimezoneOffset();
        const sign = off >= 0 ? "+" : "-";
        return `${sign}${pad(Math.floor(Math.abs(off) / 60), 2)}${pad(Math.abs(off) % 60, 2)}`;
      }
    }
    return all;
  });
}

/** Named %d formats of Log4perl. */
const NAMED_DATES: Record<string, string> = {
  ISO8601: "yyyy-MM-dd HH:mm:ss,SSS",
  ABSOLUTE: "HH:mm:ss,SSS",
  DATE: "dd MMM yyyy HH:mm:ss,SSS",
  APACHE: "[EEE MMM dd HH:mm:ss yyyy]",
};

/** %c{n} / %C{n}: the last n components of a category or package. */
function lastParts(s: string, n: string | undefined, sep: RegExp, join: string): string {
  if (!n) return s;
  const parts = s.split(sep);
  return parts.slice(-Number(n)).join(join);
}

/**
 * Renders a Log4perl ConversionPattern for one event. As PatternLayout's default
 * `message_chomp_before_newline`, a pattern with `%m%n` drops one trailing newline of the
 * message (so a message ending in "\n" is not followed by an empty line); `%m{chomp}` always does.
 */
export function renderPattern(pattern: string, e: LogEvent, chompBeforeNewline = true): string {
  const chomp = (m: string) => (m.endsWith("\n") ? m.slice(0, -1) : m);
  const message = chompBeforeNewline && pattern.includes("%m%n") ? chomp(e.message) : e.message;
  return pattern.replace(
    /%(-?\d+)?(?:\.(\d+))?([a-zA-Z%])(?:\{([^}]*)\})?/g,
    (
      all,
      width: string | undefined,
      max: string | undefined,
      conv: string,
      arg: string | undefined,
    ) => {
      let s: string;
      switch (conv) {
        case "m":
          s = arg === "chomp" ? chomp(message) : message;
          break;
        case "n":
          s = "\n";
          break;
        case "p":
          s = e.level;
          break;
        case "c":
          s = lastParts(e.category, arg, /\./, ".");
          break;
        case "C":
          s = lastParts(e.package, arg, /::/, "::");
          break;
        case "d": {
          const f = arg === undefined ? "yyyy/MM/dd HH:mm:ss" : (NAMED_DATES[arg] ?? arg);
          s = formatDate(f, e.time);
          break;
        }
        case "F":
          s = lastParts(e.filename, arg, /\//, "/");
          break;
        case "L":
          s = String(e.line);
          break;
        case "l":
          s = `${e.package}:: ${e.filename} (${e.line})`;
          break;
        case "M":
          s = `${e.package}::`;
          break;
        case "P":
          s = String(e.pid);
          break;
        case "H":
          s = e.hostname;
          break;
        case "r":
          s = String(Math.floor(e.elapsedMs));
          break;
        case "R":
          s = "0";
          break;
        case "T":
          s = "";
          break;
        case "%":
          return "%";
        default:
          return all;
      }
      if (max !== undefined && s.length > Number(max)) s = s.slice(0, Number(max));
      if (width !== undefined) {
        const w = Math.abs(Number(width));
        s = width.startsWith("-") ? s.padEnd(w) : s.padStart(w);
      }
      return s;
    },
  );
}
