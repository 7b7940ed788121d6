/**
 * @module
 * The XML document the hostile mix opens and never closes (scripts/bench_hostile.ts), shared with
 * the per-handle measurements (scripts/bench/handle_cost.ts, handle_rss.ts): 60 rows, 2,676
 * characters, 362 nodes.
 */

export const HOSTILE_XML = `<rows>${
  Array.from({ length: 60 }, (_, i) => `<row id="${i}"><name>n${i}</name><v>${i * 7}</v></row>`)
    .join("")
}</rows>`;
