/**
 * @module
 * Excel::Writer::XLSX format properties (`add_format(%props)`, `set_*`) → an ExcelJS cell style.
 * Colours, border styles, fill patterns and built-in number formats follow Excel::Writer::XLSX 1.10
 * (Format.pm `_get_color`, Workbook.pm palette); unknown properties are kept but ignored, as
 * Excel::Writer::XLSX ignores them (it warns "Unknown method").
 */

import { truthy } from "../types.ts";

import type {
  Alignment,
  Border,
  Borders,
  BorderStyle,
  Color,
  FillPatterns,
  Font,
  Style,
} from "exceljs";

/** Named colours of Format.pm `_get_color`, as palette indices. */
const NAMED_COLORS: Record<string, number> = {
  aqua: 0x0f,
  cyan: 0x0f,
  black: 0x08,
  blue: 0x0c,
  brown: 0x10,
  magenta: 0x0e,
  fuchsia: 0x0e,
  gray: 0x17,
  grey: 0x17,
  green: 0x11,
  lime: 0x0b,
  navy: 0x12,
  orange: 0x35,
  pink: 0x21,
  purple: 0x14,
  red: 0x0a,
  silver: 0x16,
  white: 0x09,
  yellow: 0x0d,
};

/** The default palette, indices 8..63 (Workbook.pm `_set_default_palette`). */
const PALETTE = (
  "000000 FFFFFF FF0000 00FF00 0000FF FFFF00 FF00FF 00FFFF 800000 008000 000080 808000 800080 " +
  "008080 C0C0C0 808080 9999FF 993366 FFFFCC CCFFFF 660066 FF8080 0066CC CCCCFF 000080 FF00FF " +
  "FFFF00 00FFFF 800080 800000 008080 0000FF 00CCFF CCFFFF CCFFCC FFFF99 99CCFF FF99CC CC99FF " +
  "FFCC99 3366FF 33CCCC 99CC00 FFCC00 FF9900 FF6600 666699 969696 003366 339966 003300 333300 " +
  "993300 993366 333399 333333"
).split(" ");

/**
 * A colour property value → ARGB ("FFRRGGBB"), or undefined for Excel's automatic colour.
 * Accepts "#RRGGBB", the named colours, and palette indices (0..7 map to 8..15).
 */
export function colorArgb(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const s = String(value);
  const hex = /^#([0-9A-F]{6})$/i.exec(s);
  if (hex) return "FF" + hex[1]!.toUpperCase();
  let index: number;
  if (Object.hasOwn(NAMED_COLORS, s.toLowerCase())) index = NAMED_COLORS[s.toLowerCase()]!;
  else if (/\D/.test(s) || s === "") return undefined;
  else {
    index = Number(s);
    if (index < 8) index += 8;
    if (index > 63) return undefined;
  }
  const rgb = PALETTE[index - 8];
  return rgb === undefined ? undefined : "FF" + rgb;
}

/** Colour `indexed="64"` (system background); exceljs writes it though its typings omit it. */
const INDEXED_64 = { indexed: 64 } as unknown as Partial<Color>;

/** Excel::Writer::XLSX border indices 1..13. */
const BORDER_STYLES: readonly BorderStyle[] = [
  "thin",
  "medium",
  "dashed",
  "dotted",
  "thick",
  "double",
  "hair",
  "mediumDashed",
  "dashDot",
  "mediumDashDot",
  "dashDotDot",
  "mediumDashDotDot",
  "slantDashDot",
];

/** Excel::Writer::XLSX pattern indices 1..18. */
const PATTERNS: readonly FillPatterns[] = [
  "solid",
  "mediumGray",
  "darkGray",
  "lightGray",
  "darkHorizontal",
  "darkVertical",
  "darkDown",
  "darkUp",
  "darkGrid",
  "darkTrellis",
  "lightHorizontal",
  "lightVertical",
  "lightDown",
  "lightUp",
  "lightGrid",
  "lightTrellis",
  "gray125",
  "gray0625",
];

/** Excel's built-in number formats by index, for `num_format => 14`. */
const BUILTIN_NUM_FORMATS: Record<number, string> = {
  0: "General",
  1: "0",
  2: "0.00",
  3: "#,##0",
  4: "#,##0.00",
  9: "0%",
  10: "0.00%",
  11: "0.00E+00",
  12: "# ?/?",
  13: "# ??/??",
  14: "mm-dd-yy",
  15: "d-mmm-yy",
  16: "d-mmm",
  17: "mmm-yy",
  18: "h:mm AM/PM",
  19: "h:mm:ss AM/PM",
  20: "h:mm",
  21: "h:mm:ss",
  22: "m/d/yy h:mm",
  37: "#,##0 ;(#,##0)",
  38: "#,##0 ;[Red](#,##0)",
  39: "#,##0.00;(#,##0.00)",
  40: "#,##0.00;[Red](#,##0.00)",
  45: "mm:ss",
  46: "[h]:mm:ss",
  47: "mmss.0",
  48: "##0.0E+0",
  49: "@",
};

const HORIZONTAL: Record<string, Alignment["horizontal"]> = {
  left: "left",
  center: "center",
  centre: "center",
  right: "right",
  fill: "fill",
  justify: "justify",
  center_across: "centerContinuous",
  centre_across: "centerContinuous",
  distributed: "distributed",
  justify_distributed: "distributed",
};

const VERTICAL: Record<string, Alignment["vertical"]> = {
  top: "top",
  vcenter: "middle",
  vcentre: "middle",
  bottom: "bottom",
  vjustify: "justify",
  vdistributed: "distributed",
};

/** The property names Excel::Writer::XLSX formats understand (plus the wrapper's `font_color`). */
export const KNOWN_PROPERTIES = new Set([
  "bold",
  "italic",
  "underline",
  "font",
  "size",
  "color",
  "font_color",
  "font_strikeout",
  "font_script",
  "font_outline",
  "font_shadow",
  "bg_color",
  "fg_color",
  "pattern",
  "align",
  "valign",
  "text_wrap",
  "rotation",
  "indent",
  "shrink",
  "num_format",
  "border",
  "top",
  "bottom",
  "left",
  "right",
  "border_color",
  "top_color",
  "bottom_color",
  "left_color",
  "right_color",
  "locked",
  "hidden",
]);

function intOf(v: unknown): number {
  const n = Number(v);
  return Number.isFinite(n) ? Math.trunc(n) : 0;
}

function borderOf(style: unknown, color: unknown): Partial<Border> | undefined {
  const s = BORDER_STYLES[intOf(style) - 1];
  if (!s) return undefined;
  const argb = colorArgb(color);
  return argb ? { style: s, color: { argb } } : { style: s };
}

/** The number format string of a `num_format` value (a format string or a built-in index). */
export function numFormatOf(v: unknown): string | undefined {
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v === "number" || /^\d+$/.test(String(v))) {
    return BUILTIN_NUM_FORMATS[intOf(v)] ?? "General";
  }
  return String(v);
}

/**
 * Builds the ExcelJS style of a format. `props` is the format's final state: like
 * Excel::Writer::XLSX, formats are resolved when the workbook is closed.
 */
export function styleOf(props: Readonly<Record<string, unknown>>): Partial<Style> {
  const style: Partial<Style> = {};
  const font: Partial<Font> = {
    name: props.font !== undefined ? String(props.font) : "Calibri",
    size: props.size !== undefined ? Number(props.size) : 11,
    family: 2,
  };
  if (props.font === undefined) font.scheme = "minor";
  if (truthy(props.bold)) font.bold = true;
  if (truthy(props.italic)) font.italic = true;
  const u = intOf(props.underline);
  if (u) {
    font.underline = u === 2
      ? "double"
      : u === 33
      ? "singleAccounting"
      : u === 34
      ? "doubleAccounting"
      : "single";
  }
  if (truthy(props.font_strikeout)) font.strike = true;
  if (truthy(props.font_outline)) font.outline = true;
  const script = intOf(props.font_script);
  if (script === 1) font.vertAlign = "superscript";
  if (script === 2) font.vertAlign = "subscript";
  const fontColor = colorArgb(props.font_color ?? props.color);
  // Excel::Writer::XLSX writes the automatic font colour as theme colour 1.
  font.color = fontColor ? { argb: fontColor } : { theme: 1 };
  style.font = font;

  // Fill: Format.pm sets the solid pattern when only a colour is given, and swaps bg/fg for it.
  let pattern = props.pattern !== undefined ? intOf(props.pattern) : undefined;
  let fg = colorArgb(props.fg_color);
  let bg = colorArgb(props.bg_color);
  if (pattern === undefined && (fg || bg)) pattern = 1;
  if (pattern === 1 && bg && !fg) [fg, bg] = [bg, undefined];
  if (pattern !== undefined && pattern > 0 && PATTERNS[pattern - 1]) {
    style.fill = {
      type: "pattern",
      pattern: PATTERNS[pattern - 1]!,
      ...(fg ? { fgColor: { argb: fg } } : {}),
      // Styles.pm `_write_fill`: without a background colour, solid fills get indexed 64.
      ...(bg ? { bgColor: { argb: bg } } : pattern === 1 ? { bgColor: INDEXED_64 } : {}),
    };
  }

  const alignment: Partial<Alignment> = {};
  for (const key of ["align", "valign"]) {
    const a = props[key];
    if (a === undefined || a === null) continue;
    const name = String(a).toLowerCase();
    if (HORIZONTAL[name]) alignment.horizontal = HORIZONTAL[name];
    if (VERTICAL[name]) alignment.vertical = VERTICAL[name];
  }
  if (truthy(props.text_wrap)) alignment.wrapText = true;
  if (truthy(props.shrink)) alignment.shrinkToFit = true;
  if (props.indent !== undefined) alignment.indent = intOf(props.indent);
  if (props.rotation !== undefined) {
    const r = intOf(props.rotation);
    alignment.textRotation = r === 270 ? "vertical" : r;
  }
  if (Object.keys(alignment).length) style.alignment = alignment;

  const borders: Partial<Record<keyof Borders, Partial<Border>>> = {};
  for (const side of ["top", "bottom", "left", "right"] as const) {
    const b = borderOf(
      props[side] ?? props.border,
      props[`${side}_color`] ?? props.border_color,
    );
    if (b) borders[side] = b;
  }
  if (Object.keys(borders).length) style.border = borders as Partial<Borders>;

  const numFmt = numFormatOf(props.num_format);
  if (numFmt !== undefined) style.numFmt = numFmt;

  if (props.locked !== undefined || props.hidden !== undefined) {
    style.protection = {
      locked: props.locked === undefined ? true : truthy(props.locked),
      hidden: truthy(props.hidden),
    };
  }
  return style;
}
