/**
 * @module
 * `crypto`: serves CryptHelper.pm, which replaces Crypt::CBC (Blowfish, AES, "Rijndael"),
 * helpers contract §3.3. Wrapped results. `new` keeps the settings under a `cipher_id` (UUID4)
 * in a handle table with the daemon's idle TTL; DESTROY's `cleanup_cipher` drops it.
 *
 * DEFECT-FIX (§3.3 compatibility warning): ciphertext is genuine Crypt::CBC output, so data moves
 * both ways between this bridge and real Crypt::CBC (checked against 3.04 in tests/perl/crypto.t):
 * - `key` is a passphrase; with the default `header => 'salt'` the output is `Salted__` + salt +
 *   CBC, key and IV from `pbkdf => 'opensslv1'` (OpenSSL's MD5 EVP_BytesToKey, one round): the
 *   default of Crypt::CBC 3.04 and the only derivation of 2.x, so old data decrypts. `opensslv2`,
 *   `pbkdf2` (`iter`, `hasher` HMACSHA2/HMACSHA1), `randomiv` and `none` are there when asked for.
 * - Key sizes as Crypt::CBC: Blowfish 56 bytes, AES/Rijndael 32, or `keysize`.
 * - `header` 'salt' | 'randomiv' | 'none'; `padding_mode` standard | null | space | oneandzeroes |
 *   rijndael_compat | none; `literal_key`, `iv`, `salt` as in Crypt::CBC->new.
 * - Data in the old Python bridge format (IV + CBC with the key Base64/hex/raw-decoded) still
 *   decrypts: tried when the expected Crypt::CBC header is absent, reported as
 *   `format: "python_bridge"`; `format => 'python_bridge'` in `new` also writes it.
 * Deviations, all for bad input only: a wrong key is refused ("bad padding") where Crypt::CBC
 * returns garbage (standard and oneandzeroes padding); randomiv data is decrypted with the key
 * derived from the passphrase, where Crypt::CBC 3.04 wrongly uses the IV as key and fails.
 */

import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import type { Args, CallContext } from "../types.ts";
import { defineHelper, failure, fn, wrapped } from "../types.ts";
import {
  cbcDecrypt,
  cbcEncrypt,
  type CbcSettings,
  checkKeySize,
  type CipherSpec,
  cipherSpec,
  CryptoInputError,
  MissingHeaderError,
  settle,
} from "./_crypt_cbc.ts";
import { bytesToHex, hexToBytes } from "./_hex.ts";
import { pythonDecrypt, pythonEncrypt, pythonKeyCandidates } from "./_python_bridge.ts";

/** What a `cipher_id` stands for. */
interface CipherHandle {
  readonly format: "crypt_cbc" | "python_bridge";
  readonly spec: CipherSpec;
  /** Crypt::CBC settings (also present for python_bridge, unused there). */
  readonly cbc: CbcSettings | undefined;
  /** Key bytes the old bridge would have used, tried in order. */
  readonly pythonKeys: readonly Uint8Array[];
}

const INVALID_ID = "Invalid cipher ID or cipher expired";

function ciphers(ctx: CallContext) {
  return ctx.handles<CipherHandle>("ciphers", {
    prefix: "cipher",
    newId: () => crypto.randomUUID(),
  });
}

/** A scalar parameter as text (Perl numbers may arrive as JSON numbers); null means absent. */
function text(args: Args, name: string): string | undefined {
  const v = args[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  throw new CryptoInputError(`Parameter '${name}' must be a string, not ${typeof v}`);
}

function integer(args: Args, name: string): number | undefined {
  const t = text(args, name);
  if (t === undefined || t === "") return undefined;
  if (!/^\s*\d+\s*$/.test(t)) {
    throw new CryptoInputError(`Parameter '${name}' must be a whole number, not '${t}'`);
  }
  return Number(t);
}

/** Perl truth: undef, "", "0" and 0 are false. */
function truthy(v: unknown): boolean {
  return !(v === undefined || v === null || v === false || v === "" || v === "0" || v === 0);
}

/**
 * The bytes a Perl scalar stood for: a string of code points <= U+00FF is a byte string
 * (binary keys, IVs and salts arrive that way); anything wider is taken as UTF-8.
 */
export function perlBytes(s: string): Uint8Array {
  return !/[\u0100-\uffff]/.test(s)
    ? new Uint8Array(Buffer.from(s, "latin1"))
    : new TextEncoder().encode(s);
}

async function fromHex(hex: string, name: string): Promise<Uint8Array> {
  const bytes = await hexToBytes(hex);
  if (typeof bytes === "string") {
    throw new CryptoInputError(
      `Invalid hex input in '${name}': ${bytes} (expected pairs of 0-9a-f)`,
    );
  }
  return bytes;
}

/** Largest non-UTF-8 plaintext also returned as `decrypted` (one character per byte). */
const BYTES_AS_TEXT_MAX = 1 << 20;

/**
 * The legacy `decrypted` key (contract §2.5: tests read it, crypto.py had dropped it): the
 * plaintext as text when it is valid UTF-8; other plaintext as one character per byte, which
 * Perl reads back as the same byte string, up to 1 MiB (beyond that only `decrypted_hex`).
 */
function asText(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    if (bytes.length > BYTES_AS_TEXT_MAX) return undefined;
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("latin1");
  }
}

function algorithm(h: CipherHandle): string {
  const ks = h.format === "crypt_cbc" ? h.cbc!.keySize : h.pythonKeys[0].length;
  return h.spec.family === "aes" ? `AES-${ks * 8}-CBC` : "Blowfish-CBC";
}

/** Key file as `crypto.py` read it: armour lines (`-----…-----`) dropped, line breaks removed. */
async function readKeyFile(ctx: CallContext, path: string): Promise<string> {
  const abs = await ctx.resolvePath(path);
  let body: string;
  try {
    body = await Deno.readTextFile(abs);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound
      ? "No such file"
      : e instanceof Deno.errors.PermissionDenied
      ? "Permission denied"
      : (e as Error).message;
    throw new CryptoInputError(`Cannot read key_file ${abs}: ${why}`);
  }
  return body.split(/\r?\n/).filter((l) => !/^-.*-$/.test(l.replace(/\r$/, ""))).join("")
    .replace(/\r/g, "");
}

/** Runs a wire function, turning expected failures into `{success:false, error}`. */
function guarded(run: (args: Args, ctx: CallContext) => Promise<unknown>) {
  return async (args: Args, ctx: CallContext) => {
    try {
      return await run(args, ctx);
    } catch (e) {
      if (e instanceof CryptoInputError) return failure(e.message);
      ctx.log.error(`crypto.${ctx.function} failed: ${(e as Error).message}`);
      return failure(
        `${ctx.function === "decrypt" ? "Decryption" : "Encryption"} operation failed: ${
          (e as Error).message
        }`,
      );
    }
  };
}

async function newCipher(args: Args, ctx: CallContext) {
  const keyParam = text(args, "key");
  const keyFile = text(args, "key_file");
  let keyText: string;
  if (keyParam !== undefined && keyParam !== "") keyText = keyParam;
  else if (keyFile !== undefined && keyFile !== "") keyText = await readKeyFile(ctx, keyFile);
  else return failure("Either key or key_file must be provided");
  if (keyText === "") return failure(`key_file ${keyFile} holds no key`);

  const spec = cipherSpec(text(args, "cipher") || "Blowfish");
  const format = text(args, "format") ?? "crypt_cbc";
  if (format !== "crypt_cbc" && format !== "python_bridge") {
    return failure(`Unknown format '${format}': use crypt_cbc (default) or python_bridge`);
  }
  const keysize = integer(args, "keysize");
  if (keysize !== undefined) checkKeySize(spec, keysize);
  const iv = text(args, "iv"), salt = text(args, "salt");
  const cbc = format === "python_bridge" ? undefined : settle({
    cipher: spec,
    pass: perlBytes(keyText),
    header: text(args, "header") || undefined,
    padding: text(args, "padding_mode") || text(args, "padding") || undefined,
    keysize,
    literalKey: truthy(args.literal_key),
    pbkdf: text(args, "pbkdf") || undefined,
    iter: integer(args, "iter"),
    hasher: text(args, "hasher") || undefined,
    iv: iv === undefined || iv === "" ? undefined : perlBytes(iv),
    salt: salt === undefined || salt === "" || salt === "1" ? undefined : perlBytes(salt),
  });
  const handle: CipherHandle = {
    format,
    spec,
    cbc,
    pythonKeys: pythonKeyCandidates(keyText, spec),
  };
  const id = ciphers(ctx).add(handle);
  ctx.log.debug(
    `cipher ${id}: ${spec.name} ${format}` +
      (cbc ? ` header=${cbc.header} padding=${cbc.padding} pbkdf=${cbc.pbkdf}` : ""),
  );
  return wrapped({
    cipher_id: id,
    cipher: spec.name,
    key_length: cbc ? cbc.keySize : handle.pythonKeys[0].length,
    block_size: spec.blockSize,
    format,
    header: cbc?.header ?? null,
    padding: cbc?.padding ?? "standard",
    pbkdf: cbc?.pbkdf ?? null,
  });
}

async function encrypt(args: Args, ctx: CallContext) {
  const h = ciphers(ctx).get(args.cipher_id);
  if (!h) return failure(`${INVALID_ID}: ${String(args.cipher_id)} (call new again)`);
  const hex = text(args, "plaintext_hex");
  const plainText = text(args, "plaintext");
  if (hex === undefined && plainText === undefined) {
    return failure("Provide plaintext_hex (hex of the bytes to encrypt) or plaintext (text)");
  }
  const plain = hex !== undefined
    ? await fromHex(hex, "plaintext_hex")
    : new TextEncoder().encode(plainText);
  const out = h.format === "crypt_cbc"
    ? await cbcEncrypt(h.cbc!, plain)
    : await pythonEncrypt(h.spec, h.pythonKeys[0], plain);
  return wrapped({ encrypted: await bytesToHex(out), length: out.length, algorithm: algorithm(h) });
}

async function decrypt(args: Args, ctx: CallContext) {
  const h = ciphers(ctx).get(args.cipher_id);
  if (!h) return failure(`${INVALID_ID}: ${String(args.cipher_id)} (call new again)`);
  const hex = text(args, "hex_ciphertext");
  if (hex === undefined) return failure("Provide hex_ciphertext (the ciphertext as hex)");
  const data = await fromHex(hex, "hex_ciphertext");
  let plain: Uint8Array;
  let format = h.format;
  if (h.format === "python_bridge") {
    plain = await pythonDecrypt(h.spec, h.pythonKeys, data);
  } else {
    try {
      plain = await cbcDecrypt(h.cbc!, data);
    } catch (e) {
      // Old-bridge data never has a Crypt::CBC header; header 'none' cannot tell, so try it too.
      const maybeOld = e instanceof MissingHeaderError ||
        (e instanceof CryptoInputError && h.cbc!.header === "none");
      if (!maybeOld) throw e;
      try {
        plain = await pythonDecrypt(h.spec, h.pythonKeys, data);
      } catch (old) {
        if (!(e instanceof MissingHeaderError) || !(old instanceof Error)) throw e;
        throw new CryptoInputError(
          `${e.message}; not old Python bridge data either (${old.message})`,
        );
      }
      format = "python_bridge";
      ctx.log.info(
        `cipher ${String(args.cipher_id)}: decrypted data in the old Python bridge format`,
      );
    }
  }
  return wrapped({
    decrypted_hex: await bytesToHex(plain),
    decrypted: asText(plain),
    length: plain.length,
    algorithm: algorithm(h),
    format,
  });
}

async function cleanupCipher(args: Args, ctx: CallContext) {
  const id = text(args, "cipher_id");
  if (id === undefined) return failure("Provide cipher_id");
  const removed = await ciphers(ctx).delete(id, "cleanup_cipher");
  return wrapped({ cipher_id: id, cleaned_up: removed });
}

const HASHES = ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"];

async function hash(args: Args) {
  const alg = (text(args, "algorithm") || "sha256").toLowerCase().replace(/-/g, "");
  if (!HASHES.includes(alg)) {
    return failure(`Unsupported hash algorithm '${alg}': use ${HASHES.join(", ")}`);
  }
  const hex = text(args, "data_hex");
  const data = hex !== undefined
    ? await fromHex(hex, "data_hex")
    : new TextEncoder().encode(text(args, "data") ?? "");
  if (hex === undefined && text(args, "data") === undefined) {
    return failure("Provide data (text) or data_hex");
  }
  return wrapped({
    hash: createHash(alg).update(data).digest("hex"),
    algorithm: alg,
    length: data.length,
  });
}

async function generateKey(args: Args) {
  const spec = cipherSpec(text(args, "cipher") || "Blowfish");
  const size = integer(args, "keysize") ?? integer(args, "length") ?? spec.defaultKeySize;
  checkKeySize(spec, size);
  const key = crypto.getRandomValues(new Uint8Array(size));
  return wrapped({ key_hex: await bytesToHex(key), key_length: size, cipher: spec.name });
}

export const cryptoHelper = defineHelper({
  name: "crypto",
  replaces: "CryptHelper.pm (Crypt::CBC with Crypt::Blowfish / Crypt::Rijndael)",
  functions: {
    new: fn(
      [
        "key",
        "key_file",
        "cipher",
        "iv",
        "header",
        "padding_mode",
        "padding",
        "literal_key",
        "pbkdf",
        "keysize",
        "salt",
        "iter",
        "hasher",
        "nodeprecate",
        "format",
      ],
      guarded(newCipher),
    ),
    encrypt: fn(["cipher_id", "plaintext_hex", "plaintext"], guarded(encrypt)),
    decrypt: fn(["cipher_id", "hex_ciphertext"], guarded(decrypt)),
    cleanup_cipher: fn(["cipher_id"], guarded(cleanupCipher)),
    hash: fn(["data", "data_hex", "algorithm"], guarded(hash)),
    generate_key: fn(["cipher", "keysize", "length"], guarded(generateKey)),
  },
});
