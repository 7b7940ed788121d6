/**
 * @module
 * Throughput of the `crypto` helper on one large message, through its wire functions
 * (hex in, hex out, as CryptHelper.pm sends it), plus the raw cipher loop, for Blowfish and AES.
 * Run: `deno run -A scripts/bench_crypto.ts [MiB]` (default 50).
 */

import { Buffer } from "node:buffer";
import { cryptoHelper } from "../helpers/crypto/mod.ts";
import { makeTestContext } from "../tests/_support/context.ts";

const mib = Number(Deno.args[0] ?? 50);
const size = mib * 1024 * 1024;
const plain = new Uint8Array(size);
for (let i = 0; i < size; i += 65536) crypto.getRandomValues(plain.subarray(i, i + 65536));
const plainHex = Buffer.from(plain).toString("hex");
const t = makeTestContext({ module: "crypto" });
const { new: newCipher, encrypt, decrypt } = cryptoHelper.functions;
if (!newCipher || !encrypt || !decrypt) throw new Error("crypto helper lacks new/encrypt/decrypt");
type Wrapped = { success: boolean; error?: string; result: Record<string, unknown> };

async function timed(label: string, run: () => Promise<Wrapped>): Promise<Wrapped> {
  const start = performance.now();
  const r = await run();
  const s = (performance.now() - start) / 1000;
  if (!r.success) throw new Error(`${label}: ${r.error}`);
  // deno-lint-ignore no-console
  console.log(`${label.padEnd(28)} ${s.toFixed(2)} s  ${(mib / s).toFixed(1)} MiB/s`);
  return r;
}

/** Longest gap between event-loop turns while `work` runs: what other calls would wait. */
async function maxStall(work: () => Promise<unknown>): Promise<number> {
  let last = performance.now(), worst = 0, done = false;
  const probe = (async () => {
    while (!done) {
      await new Promise((r) => setTimeout(r, 0));
      const now = performance.now();
      worst = Math.max(worst, now - last);
      last = now;
    }
  })();
  await work();
  done = true;
  await probe;
  return worst;
}

try {
  for (const cipher of ["Blowfish", "AES"]) {
    const n = (await newCipher.run({ key: "bench pass", cipher }, t.ctx)) as Wrapped;
    const id = n.result.cipher_id;
    let enc!: Wrapped;
    const stall = await maxStall(async () => {
      enc = await timed(
        `${cipher} encrypt ${mib} MiB`,
        () => encrypt.run({ cipher_id: id, plaintext_hex: plainHex }, t.ctx) as Promise<Wrapped>,
      );
    });
    const dec = await timed(
      `${cipher} decrypt ${mib} MiB`,
      () =>
        decrypt.run({ cipher_id: id, hex_ciphertext: enc.result.encrypted }, t.ctx) as Promise<
          Wrapped
        >,
    );
    if (dec.result.decrypted_hex !== plainHex) throw new Error(`${cipher}: round trip differs`);
    // deno-lint-ignore no-console
    console.log(`${cipher} longest event-loop stall during encrypt: ${stall.toFixed(0)} ms`);
  }
} finally {
  await t.close();
}
