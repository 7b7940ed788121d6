/**
 * @module
 * The part of Log::Log4perl's configuration format a logger needs: `log4perl.rootLogger`,
 * `log4perl.logger.<cat>` / `log4perl.category.<cat>` (level and appender names, inherited up
 * the category tree, additivity), and File / Screen appenders with Simple or Pattern layouts.
 */

/** Where an appender writes. */
export type AppenderSpec =
  | {
    readonly kind: "file";
    readonly name: string;
    readonly filename: string;
    readonly mode: "append" | "write";
    readonly pattern: string;
    readonly threshold?: string;
    /** `utf8 = 1`: the file has a :utf8 layer (every character goes out as UTF-8). */
    readonly utf8?: boolean;
    /** false when the layout sets `message_chomp_before_newline = 0`. */
    readonly chomp?: boolean;
  }
  | {
    readonly kind: "screen";
    readonly name: string;
    readonly stderr: boolean;
    readonly pattern: string;
    readonly threshold?: string;
    readonly utf8?: boolean;
    /** `autoflush = 1`: STDOUT is not block-buffered. */
    readonly autoflush?: boolean;
    readonly chomp?: boolean;
  };

/** What a category gets from a configuration. */
export interface Resolved {
  readonly level: string | undefined;
  readonly appenders: AppenderSpec[];
}

/** Parses `key = value` lines (comments, backslash continuations). */
export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.replace(/\\\r?\n\s*/g, "").split(/\r?\n/);
  for (const raw of lines) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    if (eq < 0) continue;
    out.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return out;
}

/** PatternLayout's `message_chomp_before_newline` (default 1). */
function layoutChomps(props: Map<string, string>, base: string): boolean {
  // SimpleLayout is not a PatternLayout: it never chomps.
  if (/SimpleLayout$/.test(props.get(`${base}.layout`) ?? "SimpleLayout")) return false;
  const v = props.get(`${base}.layout.message_chomp_before_newline`);
  return v === undefined || !/^(0|false|)$/i.test(v);
}

function layoutPattern(props: Map<string, string>, base: string): string {
  const layout = props.get(`${base}.layout`) ?? "Log::Log4perl::Layout::SimpleLayout";
  if (/SimpleLayout$/.test(layout)) return "%p - %m%n";
  return props.get(`${base}.layout.ConversionPattern`) ?? "%m%n";
}

function appenderOf(props: Map<string, string>, name: string): AppenderSpec | string {
  const base = `log4perl.appender.${name}`;
  const cls = props.get(base);
  if (!cls) return `Appender ${name} is not defined in the Log4perl configuration`;
  const pattern = layoutPattern(props, base);
  const threshold = props.get(`${base}.Threshold`);
  const chomp = layoutChomps(props, base) ? {} : { chomp: false };
  const flag = (k: string) => !/^(0|false|)$/i.test(props.get(`${base}.${k}`) ?? "");
  if (/Appender::File$/.test(cls)) {
    const filename = props.get(`${base}.filename`);
    if (!filename) return `Appender ${name} (${cls}) has no filename`;
    const mode = (props.get(`${base}.mode`) ?? "append").toLowerCase();
    return {
      kind: "file",
      name,
      filename,
      mode: mode === "write" || mode === "clobber" ? "write" : "append",
      pattern,
      utf8: flag("utf8"),
      ...chomp,
      ...(threshold ? { threshold } : {}),
    };
  }
  if (/Appender::Screen(ColoredLevels)?$/.test(cls)) {
    const stderr = props.get(`${base}.stderr`);
    return {
      kind: "screen",
      name,
      stderr: stderr === undefined ? true : !/^(0|false|)$/i.test(stderr),
      pattern,
      utf8: flag("utf8"),
      autoflush: flag("autoflush"),
      ...chomp,
      ...(threshold ? { threshold } : {}),
    };
  }
  return `Unsupported appender class ${cls} (only Log::Log4perl::Appender::File and ::Screen)`;
}

/** The level and appenders of `category` (Perl `A::B` or `A.B`) under a configuration. */
export function resolve(props: Map<string, string>, category: string): Resolved | string {
  const parts = category.replaceAll("::", ".").split(".").filter((p) => p !== "");
  const chain: string[] = [];
  for (let i = parts.length; i > 0; i--) chain.push(parts.slice(0, i).join("."));
  let level: string | undefined;
  const names: string[] = [];
  const settingOf = (cat: string | undefined) =>
    cat === undefined
      ? props.get("log4perl.rootLogger")
      : props.get(`log4perl.logger.${cat}`) ?? props.get(`log4perl.category.${cat}`);
  for (const cat of [...chain, undefined]) {
    const setting = settingOf(cat);
    if (setting === undefined) continue;
    const [lvl, ...apps] = setting.split(",").map((s) => s.trim());
    if (level === undefined && lvl) level = lvl.toUpperCase();
    for (const a of apps) if (a && !names.includes(a)) names.push(a);
    if (cat !== undefined && /^(0|false)$/i.test(props.get(`log4perl.additivity.${cat}`) ?? "")) {
      break;
    }
  }
  const appenders: AppenderSpec[] = [];
  for (const n of names) {
    const a = appenderOf(props, n);
    if (typeof a === "string") return a;
    appenders.push(a);
  }
  return { level, appenders };
}
