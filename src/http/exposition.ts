/**
 * @module
 * The Prometheus text exposition format 0.0.4: label escaping, number formatting and one family
 * (HELP, TYPE, its samples) at a time. Knows nothing of the daemon; `prometheus.ts` feeds it.
 */

/** Label name → value of one sample. */
export type Labels = Record<string, string>;
/** One sample of a family: its labels and its value. */
export type Sample = readonly [labels: Labels, value: number];
/** A histogram's buckets (upper bounds, counts per bucket), sum and count. */
export interface HistogramValue {
  readonly bounds: readonly number[];
  readonly counts: readonly number[];
  readonly sum: number;
  readonly count: number;
}

/** Escapes a label value: backslash, double quote and newline (exposition format). */
function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

function sampleLine(name: string, labels: Labels, value: number): string {
  const l = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",");
  return `${name}${l ? `{${l}}` : ""} ${formatValue(value)}`;
}

/** Accumulates metric families; each family is written once with its HELP and TYPE. */
export class Exposition {
  readonly #lines: string[] = [];

  /** A counter or gauge: one unlabelled value, or labelled samples. */
  family(
    name: string,
    type: "counter" | "gauge",
    help: string,
    samples: readonly Sample[] | number,
  ): void {
    this.#lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    const list: readonly Sample[] = typeof samples === "number" ? [[{}, samples]] : samples;
    for (const [labels, value] of list) this.#lines.push(sampleLine(name, labels, value));
  }

  /** A histogram: cumulative `_bucket` samples, then `_sum` and `_count`. */
  histogram(name: string, help: string, h: HistogramValue): void {
    this.#lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
    let cumulative = 0;
    h.bounds.forEach((le, i) => {
      cumulative += h.counts[i] ?? 0;
      this.#lines.push(sampleLine(`${name}_bucket`, { le: String(le) }, cumulative));
    });
    this.#lines.push(sampleLine(`${name}_bucket`, { le: "+Inf" }, h.count));
    this.#lines.push(sampleLine(`${name}_sum`, {}, h.sum));
    this.#lines.push(sampleLine(`${name}_count`, {}, h.count));
  }

  /** The text, ending with a newline. */
  toString(): string {
    return this.#lines.join("\n") + "\n";
  }
}
