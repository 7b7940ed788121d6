/**
 * @module
 * How `crypto` reads what CryptHelper.pm sends: scalars, hex, ciphertext given as hex or as the
 * raw `Salted__…` bytes, the key file, and how plaintext goes back. Byte strings follow the one
 * Perl string rule (docs/helpers/README.md) from `helpers/types.ts`.
 */

import type { Args, CallContext } from "../types.ts";
import {
  bytesToPerl,
  FileReadError,
  isByteString,
  perlBytes,
  perlText,
  readRegularFile,
} from "../types.ts";
import { CryptoInputError } from "./_errors.ts";
import { hexToBytes } from "./_hex.ts";

/** A scalar parameter as text (Perl numbers may arrive as JSON numbers); null means absent. */
export function text(args: Args, name: string): string | undefined {
  const v = args[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  throw new CryptoInputError(`Parameter '${name}' must be a string, not ${typeof v}`);
}

/** A whole-number parameter, or undefined when absent or empty. */
export function integer(args: Args, name: string): number | undefined {
  const t = text(args, name);
  if (t === undefined || t === "") return undefined;
  if (!/^\s*\d+\s*$/.test(t)) {
    throw new CryptoInputError(`Parameter '${name}' must be a whole number, not '${t}'`);
  }
  return Number(t);
}

/** Decodes hex, or throws the contract's "Invalid hex input" error. */
export async function fromHex(hex: string, name: string): Promise<Uint8Array> {
  const bytes = await hexToBytes(hex);
  if (typeof bytes === "string") {
    throw new CryptoInputError(
      `Invalid hex input in '${name}': ${bytes} (expected pairs of 0-9a-f)`,
    );
  }
  return bytes;
}

/** Raw Crypt::CBC output: its headers, or any byte outside printable ASCII (hex never has one). */
const RAW = /^(?:Salted__|RandomIV)|[^\u0020-\u007e]/;

/**
 * The ciphertext `decrypt` was given: hex (what `encrypt` returns by default), or the raw bytes
 * themselves, as `decrypt(pack('H*', $stored))` hands over data Crypt::CBC wrote. Raw input is
 * recognised by Crypt::CBC's `Salted__` / `RandomIV` header or by any byte outside printable
 * ASCII; anything else is read as hex (and refused with "Invalid hex input" when it is not).
 * Header-less raw data made only of printable ASCII is therefore misread, a chance of 3.6e-4
 * for one 8-byte block and 1.3e-7 for a 16-byte one.
 */
export async function ciphertextBytes(
  given: string,
): Promise<{ bytes: Uint8Array; input: "hex" | "raw" }> {
  if (!RAW.test(given)) return { bytes: await fromHex(given, "hex_ciphertext"), input: "hex" };
  if (!isByteString(given)) {
    throw new CryptoInputError(
      "Invalid ciphertext in 'hex_ciphertext': it holds characters above U+00FF; " +
        "pass the ciphertext's bytes or their hex",
    );
  }
  return { bytes: perlBytes(given), input: "raw" };
}

/**
 * Key file as `crypto.py` read it: armour lines (`-----…-----`) dropped, line breaks removed.
 * Read as bytes, bounded (`readRegularFile`), so the key is the file's bytes, as a Perl script
 * reading it without an `:encoding` layer would pass to Crypt::CBC.
 */
export async function readKeyFile(ctx: CallContext, path: string): Promise<string> {
  // A UTF-8 byte-string file name names the file with those bytes (the Perl string rule).
  const abs = await ctx.resolvePath(perlText(path));
  let bytes: Uint8Array;
  try {
    bytes = await readRegularFile(abs, ctx.settings.maxFileBytes);
  } catch (e) {
    if (!(e instanceof FileReadError)) throw e;
    const why = e.kind === "not_found" ? "No such file" : e.message;
    throw new CryptoInputError(`Cannot read key_file ${abs}: ${why}`);
  }
  return bytesToPerl(bytes).split(/\r?\n/).filter((l) => !/^-.*-$/.test(l.replace(/\r$/, "")))
    .join("").replace(/\r/g, "");
}

/** Largest non-UTF-8 plaintext also returned as `decrypted` (one character per byte). */
const BYTES_AS_TEXT_MAX = 1 << 20;

/**
 * The legacy `decrypted` key (contract §2.5: tests read it, crypto.py had dropped it): the
 * plaintext as text when it is valid UTF-8; other plaintext as one character per byte, which
 * Perl reads back as the same byte string, up to 1 MiB (beyond that only `decrypted_hex`).
 */
export function asText(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    if (bytes.length > BYTES_AS_TEXT_MAX) return undefined;
    return bytesToPerl(bytes);
  }
}
