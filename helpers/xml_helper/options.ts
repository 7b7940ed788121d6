/**
 * @module
 * XML::Simple 2.25 `handle_options`: option names are case-insensitive and may contain
 * underscores, unknown ones are an error, and each value is normalised the way the module does
 * (ForceArray as 0/1/name set, KeyAttr as a list or a per-element map with `+`/`-` flags, a
 * leading `-` on ContentKey, ValueAttr as a list or map, GroupTags and Variables checked).
 *
 * Options arrive as JSON, so Perl `qr//` values (ForceArray regexes) cannot reach the helper:
 * JSON::PP refuses to encode them on the Perl side.
 */

import { perlString } from "./text.ts";
import { truthy } from "../types.ts";

/** Raised for what XML::Simple croaks on; turned into a `{success:false}` result. */
export class XmlSimpleError extends Error {
  constructor(message: string, readonly errorType = "ValueError") {
    super(message);
    this.name = "XmlSimpleError";
  }
}

const KNOWN_IN = new Set([
  "keyattr",
  "keeproot",
  "forcecontent",
  "contentkey",
  "noattr",
  "searchpath",
  "forcearray",
  "cache",
  "suppressempty",
  "parseropts",
  "grouptags",
  "nsexpand",
  "datahandler",
  "varattr",
  "variables",
  "normalisespace",
  "normalizespace",
  "valueattr",
  "strictmode",
]);

const KNOWN_OUT = new Set([
  "keyattr",
  "keeproot",
  "contentkey",
  "noattr",
  "rootname",
  "xmldecl",
  "outputfile",
  "noescape",
  "suppressempty",
  "grouptags",
  "nsexpand",
  "handler",
  "noindent",
  "attrindent",
  "nosort",
  "valueattr",
  "numericescape",
  "strictmode",
]);

const DEF_KEY_ATTR = ["name", "key", "id"];
const DEF_XML_DECL = "<?xml version='1.0' standalone='yes'?>";
const CACHE_SCHEMES = new Set(["storable", "memshare", "memcopy"]);

/** KeyAttr per element: attribute name and flag (`+` keep the key, `-` keep a `-key` copy). */
export type KeyAttrMap = Map<string, readonly [string, string]>;

/** Normalised options, shared by XMLin and XMLout (each reads its own). */
export interface Options {
  /** `null`: folding disabled (`KeyAttr => []`). */
  readonly keyattr: readonly string[] | KeyAttrMap | null;
  /** Whether KeyAttr is the default list (only changes which problems are reported). */
  readonly defaultKeys: boolean;
  readonly keeproot: boolean;
  readonly forcecontent: boolean;
  readonly contentkey: string;
  readonly collapseagain: boolean;
  readonly noattr: boolean;
  readonly searchpath: readonly string[];
  /** 0, 1, or the set of element names forced into arrays. */
  readonly forcearray: 0 | 1 | ReadonlySet<string>;
  /** Absent: `{ set: false }`; else the value (`null` for undef). */
  readonly suppressempty: { readonly set: false } | { readonly set: true; readonly value: unknown };
  readonly grouptags: ReadonlyMap<string, string> | null;
  readonly nsexpand: boolean;
  readonly varattr: string | null;
  readonly variables: Map<string, string> | null;
  readonly normalisespace: number;
  readonly valueattrlist: ReadonlySet<string> | null;
  readonly valueattr: ReadonlyMap<string, string> | null;
  readonly strictmode: boolean;
  readonly rootname: string;
  readonly xmldecl: string;
  readonly outputfile: string | null;
  readonly noescape: boolean;
  readonly noindent: boolean;
  readonly attrindent: boolean;
  readonly nosort: boolean;
  readonly numericescape: unknown;
}

function isHash(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Normalises the options of one XMLin (`dirn` "in") or XMLout ("out") call. */
export function handleOptions(dirn: "in" | "out", given: unknown): Options {
  if (given !== undefined && given !== null && !isHash(given)) {
    throw new XmlSimpleError("Options must be name=>value pairs (pass a hash of options)");
  }
  const known = dirn === "in" ? KNOWN_IN : KNOWN_OUT;
  const raw = new Map<string, unknown>();
  for (const [key, val] of Object.entries(given ?? {})) {
    const lkey = key.toLowerCase().replace(/_/g, "");
    if (!known.has(lkey)) throw new XmlSimpleError(`Unrecognised option: ${key}`);
    raw.set(lkey, val);
  }
  const has = (k: string) => raw.has(k);
  const flag = (k: string) => truthy(raw.get(k));
  if (flag("handler")) {
    throw new XmlSimpleError(
      "XMLout option Handler (a SAX handler object) cannot cross cpan-bridge: " +
        "take the XML string XMLout returns and parse it on the Perl side",
      "NotImplementedError",
    );
  }
  const strictmode = flag("strictmode");
  const call = dirn === "in" ? "XMLin()" : "XMLout()";

  let rootname = "opt";
  if (has("rootname")) {
    rootname = raw.get("rootname") == null ? "" : perlString(raw.get("rootname"));
  }

  let xmldecl = "";
  if (flag("xmldecl")) {
    const v = raw.get("xmldecl");
    xmldecl = v === true || perlString(v) === "1" ? DEF_XML_DECL : perlString(v);
  }

  let contentkey = "content";
  let collapseagain = false;
  if (has("contentkey")) {
    contentkey = perlString(raw.get("contentkey"));
    const m = /^-(.*)$/s.exec(contentkey);
    if (m) {
      contentkey = m[1]!;
      collapseagain = true;
    }
  }

  const normalisespace = Number(
    perlString(has("normalisespace") ? raw.get("normalisespace") : raw.get("normalizespace")),
  ) || 0;

  const sp = raw.get("searchpath");
  const searchpath = !truthy(sp) ? [] : Array.isArray(sp) ? sp.map(perlString) : [perlString(sp)];

  if (flag("cache")) {
    const c = raw.get("cache");
    for (const scheme of (Array.isArray(c) ? c : [c]).map((s) => perlString(s).toLowerCase())) {
      if (!CACHE_SCHEMES.has(scheme)) {
        throw new XmlSimpleError(`Unsupported caching scheme: ${scheme}`);
      }
    }
  }

  let forcearray: 0 | 1 | Set<string> = 0;
  if (has("forcearray")) {
    const fa = raw.get("forcearray");
    if (Array.isArray(fa)) forcearray = fa.length ? new Set(fa.map(perlString)) : 0;
    else forcearray = truthy(fa) ? 1 : 0;
  } else if (strictmode && dirn === "in") {
    throw new XmlSimpleError(`No value specified for 'ForceArray' option in call to ${call}`);
  }

  let keyattr: string[] | KeyAttrMap | null;
  if (has("keyattr")) {
    const ka = raw.get("keyattr");
    if (isHash(ka)) {
      const map: KeyAttrMap = new Map();
      for (const [el, spec] of Object.entries(ka)) {
        const m = /^(\+|-)?(.*)$/s.exec(perlString(spec))!;
        map.set(el, [m[2]!, m[1] ?? ""]);
        if (strictmode && dirn === "in") {
          if (forcearray === 1 || (forcearray instanceof Set && forcearray.has(el))) continue;
          throw new XmlSimpleError(`<${el}> set in KeyAttr but not in ForceArray`);
        }
      }
      keyattr = map;
    } else if (Array.isArray(ka)) {
      keyattr = ka.length ? ka.map(perlString) : null;
    } else {
      // A scalar names one attribute; undef (JSON null) folds on nothing, as [] does.
      keyattr = ka === null || ka === undefined ? null : [perlString(ka)];
    }
  } else {
    if (strictmode) {
      throw new XmlSimpleError(`No value specified for 'KeyAttr' option in call to ${call}`);
    }
    keyattr = [...DEF_KEY_ATTR];
  }
  const defaultKeys = Array.isArray(keyattr) && keyattr.join(",") === DEF_KEY_ATTR.join(",");

  let valueattrlist: Set<string> | null = null;
  let valueattr: Map<string, string> | null = null;
  const va = raw.get("valueattr");
  if (Array.isArray(va)) valueattrlist = new Set(va.map(perlString));
  else if (isHash(va)) valueattr = new Map(Object.entries(va).map(([k, v]) => [k, perlString(v)]));

  let grouptags: Map<string, string> | null = null;
  if (flag("grouptags")) {
    const gt = raw.get("grouptags");
    if (!isHash(gt)) {
      throw new XmlSimpleError("Illegal value for 'GroupTags' option - expected a hashref");
    }
    grouptags = new Map();
    for (const [k, v] of Object.entries(gt)) {
      const val = perlString(v);
      if (k === val) throw new XmlSimpleError(`Bad value in GroupTags: '${k}' => '${val}'`);
      grouptags.set(k, val);
    }
  }

  let variables: Map<string, string> | null = null;
  if (flag("variables")) {
    const vars = raw.get("variables");
    if (!isHash(vars)) {
      throw new XmlSimpleError("Illegal value for 'Variables' option - expected a hashref");
    }
    variables = new Map(Object.entries(vars).map(([k, v]) => [k, perlString(v)]));
  } else if (flag("varattr")) {
    variables = new Map();
  }

  const of = raw.get("outputfile");
  return {
    keyattr,
    defaultKeys,
    keeproot: flag("keeproot"),
    forcecontent: flag("forcecontent"),
    contentkey,
    collapseagain,
    noattr: flag("noattr"),
    searchpath,
    forcearray,
    suppressempty: has("suppressempty")
      ? { set: true, value: raw.get("suppressempty") ?? null }
      : { set: false },
    grouptags,
    nsexpand: flag("nsexpand"),
    varattr: flag("varattr") ? perlString(raw.get("varattr")) : null,
    variables,
    normalisespace,
    valueattrlist,
    valueattr,
    strictmode,
    rootname,
    xmldecl,
    outputfile: truthy(of) ? perlString(of) : null,
    noescape: flag("noescape"),
    noindent: flag("noindent"),
    attrindent: flag("attrindent"),
    nosort: flag("nosort"),
    numericescape: raw.get("numericescape"),
  };
}
