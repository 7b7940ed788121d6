/**
 * @module
 * Crypt::CBC 3.04 semantics: option checking as in its `new`, the `Salted__` / `RandomIV` / bare
 * headers, its key derivations (opensslv1 = OpenSSL's MD5 EVP_BytesToKey, the default in 3.04
 * and the only one in 2.x; opensslv2, pbkdf2, randomiv, none) and its six padding modes, so
 * that data moves in both directions between cpan-bridge and real Crypt::CBC.
 */

import { createHash, pbkdf2 } from "node:crypto";
import { concatBytes } from "../types.ts";
import { aesEngine, blowfishEngine, type CbcEngine } from "./_engine.ts";

/** An expected failure: bad options or undecryptable data. `mod.ts` returns it as `error`. */
export class CryptoInputError extends Error {
  override readonly name = "CryptoInputError";
}

/** Thrown when the ciphertext lacks the header its mode expects (the legacy-format hint). */
export class MissingHeaderError extends CryptoInputError {}

export type CipherFamily = "blowfish" | "aes";
export type HeaderMode = "salt" | "randomiv" | "none";
export type PaddingMode =
  | "standard"
  | "null"
  | "space"
  | "oneandzeroes"
  | "rijndael_compat"
  | "none";
export type Pbkdf = "opensslv1" | "opensslv2" | "pbkdf2" | "randomiv" | "none";

/** A supported block cipher, with the sizes Crypt::CBC uses for it. */
export interface CipherSpec {
  /** Name reported back: "Blowfish", "AES" or "Rijndael". */
  readonly name: string;
  readonly family: CipherFamily;
  readonly blockSize: number;
  /** Crypt::CBC's keysize: Crypt::Blowfish max_keysize 56, Crypt::Rijndael keysize 32. */
  readonly defaultKeySize: number;
}

const CIPHERS: Record<string, CipherSpec> = {
  blowfish: { name: "Blowfish", family: "blowfish", blockSize: 8, defaultKeySize: 56 },
  aes: { name: "AES", family: "aes", blockSize: 16, defaultKeySize: 32 },
  rijndael: { name: "Rijndael", family: "aes", blockSize: 16, defaultKeySize: 32 },
};

/** Looks up a cipher by the names Perl code uses ("Blowfish", "Crypt::Rijndael", "Cipher::AES"). */
export function cipherSpec(name: string): CipherSpec {
  const short = name.trim().replace(/^(Crypt::)?(Cipher::)?/i, "").toLowerCase();
  const spec = CIPHERS[short === "aes256" || short === "aes-256" ? "aes" : short];
  if (!spec) {
    throw new CryptoInputError(
      `Unsupported cipher '${name}': cpan-bridge supports Blowfish, AES and Rijndael (AES)`,
    );
  }
  return spec;
}

/** Checks a key size against what the cipher module itself accepts. */
export function checkKeySize(spec: CipherSpec, size: number): void {
  const ok = spec.family === "aes" ? [16, 24, 32].includes(size) : size >= 8 && size <= 56;
  if (!ok) {
    const allowed = spec.family === "aes" ? "16, 24 or 32" : "8 to 56";
    throw new CryptoInputError(
      `Invalid key size ${size} bytes for ${spec.name}: it must be ${allowed} bytes`,
    );
  }
}

/** A block cipher in CBC mode for a key. */
export function engineFor(spec: CipherSpec, key: Uint8Array): CbcEngine {
  return spec.family === "aes" ? aesEngine(key) : blowfishEngine(key);
}

/** Everything `new` settled, as Crypt::CBC keeps it in its object. */
export interface CbcSettings {
  readonly cipher: CipherSpec;
  readonly keySize: number;
  readonly header: HeaderMode;
  readonly padding: PaddingMode;
  readonly pbkdf: Pbkdf;
  readonly iter: number;
  readonly hash: "sha256" | "sha1";
  /** Passphrase bytes (undefined with a literal key). */
  readonly pass: Uint8Array | undefined;
  /** Literal key bytes (`-literal_key` or `-pbkdf => 'none'`). */
  readonly key: Uint8Array | undefined;
  /** Literal IV (`-iv`). */
  readonly iv: Uint8Array | undefined;
  /** Fixed salt (`-salt`); undefined means a random salt per message. */
  readonly fixedSalt: Uint8Array | undefined;
  /** Last salt used: Crypt::CBC keeps it, and header 'none' decryption reuses it. */
  salt: Uint8Array | undefined;
}

/** The raw options of Crypt::CBC->new, as far as the wire passes them. */
export interface CbcOptions {
  readonly cipher: CipherSpec;
  readonly pass: Uint8Array;
  readonly header?: string;
  readonly padding?: string;
  readonly keysize?: number;
  readonly literalKey?: boolean;
  readonly pbkdf?: string;
  readonly iter?: number;
  readonly hasher?: string;
  readonly iv?: Uint8Array;
  readonly salt?: Uint8Array;
}

const HEADERS = ["salt", "randomiv", "none"];
const PADDINGS = ["standard", "null", "space", "oneandzeroes", "rijndael_compat", "none"];
const PBKDFS = ["opensslv1", "opensslv2", "pbkdf2", "randomiv", "none"];

/** Applies Crypt::CBC::new's defaults and consistency checks; errors use its wording. */
export function settle(o: CbcOptions): CbcSettings {
  const literal0 = o.literalKey === true;
  const header = o.header ?? (literal0 || o.pbkdf === "none" ? "none" : "salt");
  if (!HEADERS.includes(header)) {
    throw new CryptoInputError(`Invalid -header mode '${header}': use salt, randomiv or none`);
  }
  let padding = o.padding ?? "standard";
  if (padding === "pkcs5" || padding === "pkcs7") padding = "standard";
  if (!PADDINGS.includes(padding)) {
    throw new CryptoInputError(
      `'${padding}' padding not supported: use one of ${PADDINGS.join(", ")}`,
    );
  }
  const bs = o.cipher.blockSize;
  const keySize = o.keysize ?? o.cipher.defaultKeySize;
  checkKeySize(o.cipher, keySize);
  const pbkdf = o.pbkdf ?? (literal0 ? "none" : header === "randomiv" ? "randomiv" : "opensslv1");
  if (!PBKDFS.includes(pbkdf)) {
    throw new CryptoInputError(`Unknown -pbkdf '${pbkdf}': use one of ${PBKDFS.join(", ")}`);
  }
  const iter = o.iter ?? 10_000;
  if (!Number.isInteger(iter) || iter < 1) {
    throw new CryptoInputError("-iter must be an integer greater than or equal to 1");
  }
  const hasher = (o.hasher ?? "HMACSHA2").toUpperCase();
  const hash = hasher === "HMACSHA1" || hasher === "SHA1"
    ? "sha1"
    : hasher === "HMACSHA2" || hasher === "SHA256"
    ? "sha256"
    : undefined;
  if (!hash) {
    throw new CryptoInputError(`Unsupported -hasher '${o.hasher}': use HMACSHA2 or HMACSHA1`);
  }
  if (o.salt !== undefined && o.salt.length !== 8) {
    throw new CryptoInputError(
      `Argument to -salt must be exactly 8 bytes long (got ${o.salt.length})`,
    );
  }
  if (o.iv !== undefined && o.iv.length !== bs) {
    throw new CryptoInputError(
      `Initialization vector must be exactly ${bs} bytes long when using the ${o.cipher.name} cipher (got ${o.iv.length})`,
    );
  }
  const key = literal0 || pbkdf === "none" ? o.pass : undefined;
  if (key !== undefined && key.length !== keySize) {
    throw new CryptoInputError(
      `If specified by -literal_key, then the key length must be equal to the chosen cipher's key length of ${keySize} bytes (got ${key.length})`,
    );
  }
  if (header === "salt" && key !== undefined) {
    throw new CryptoInputError(
      "Cannot use salt-based key generation if literal key is specified: use -header => 'none'",
    );
  }
  if (header === "randomiv" && bs !== 8) {
    throw new CryptoInputError(
      "Cannot encrypt using a non-8 byte blocksize cipher when using randomiv header mode",
    );
  }
  if (pbkdf === "none" && (key === undefined || o.iv === undefined)) {
    throw new CryptoInputError(
      "If a key derivation function (-pbkdf) of 'none' is provided, a literal key and iv must be provided",
    );
  }
  if (header === "randomiv" && pbkdf !== "randomiv") {
    throw new CryptoInputError(
      "If a -header mode of 'randomiv' is provided, then the -pbkdf key derivation function must be 'randomiv' or undefined",
    );
  }
  return {
    cipher: o.cipher,
    keySize,
    header: header as HeaderMode,
    padding: padding as PaddingMode,
    pbkdf: pbkdf as Pbkdf,
    iter,
    hash,
    pass: key === undefined ? o.pass : undefined,
    key,
    iv: o.iv,
    fixedSalt: o.salt,
    salt: o.salt,
  };
}

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  return concatBytes(parts);
}

function random(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

/** EVP_BytesToKey with one iteration: D_i = H(D_{i-1} || pass || salt). */
function bytesToKey(hash: string, pass: Uint8Array, salt: Uint8Array, len: number): Uint8Array {
  let out = new Uint8Array(0);
  let d = new Uint8Array(0);
  while (out.length < len) {
    d = new Uint8Array(createHash(hash).update(d).update(pass).update(salt).digest());
    out = concat(out, d);
  }
  return out;
}

/** Crypt::CBC::PBKDF::<pbkdf>->key_and_iv(salt, pass). */
async function keyAndIv(
  s: CbcSettings,
  salt: Uint8Array | undefined,
): Promise<{ key: Uint8Array; iv: Uint8Array }> {
  const ks = s.keySize, bs = s.cipher.blockSize;
  const pass = s.pass ?? new Uint8Array(0);
  const saltBytes = salt ?? new Uint8Array(0);
  let material: Uint8Array;
  switch (s.pbkdf) {
    case "opensslv1":
      material = bytesToKey("md5", pass, saltBytes, ks + bs);
      break;
    case "opensslv2":
      material = bytesToKey("sha256", pass, saltBytes, ks + bs);
      break;
    case "pbkdf2":
      material = await new Promise<Uint8Array>((resolve, reject) =>
        pbkdf2(pass, saltBytes, s.iter, ks + bs, s.hash, (err, key) => {
          if (err) reject(err);
          else resolve(new Uint8Array(key));
        })
      );
      break;
    case "randomiv": {
      // Pre-1.0 OpenSSL: md5(pass), extended with md5 of everything so far; a random IV.
      let m = new Uint8Array(createHash("md5").update(pass).digest());
      while (m.length < ks) m = concat(m, new Uint8Array(createHash("md5").update(m).digest()));
      material = concat(m.subarray(0, ks), random(bs));
      break;
    }
    case "none":
      if (pass.length !== ks) {
        throw new CryptoInputError(`For selected cipher, the key must be exactly ${ks} bytes long`);
      }
      material = pass;
      break;
  }
  return { key: material.subarray(0, ks), iv: material.subarray(ks, ks + bs) };
}

/** set_key_and_iv: the key and IV for a message whose salt is already chosen. */
async function setKeyAndIv(
  s: CbcSettings,
  salt: Uint8Array,
): Promise<{ key: Uint8Array; iv: Uint8Array }> {
  const bs = s.cipher.blockSize;
  let key: Uint8Array, iv: Uint8Array | undefined;
  if (s.key === undefined) {
    const derived = await keyAndIv(s, salt);
    key = derived.key;
    iv = s.iv ?? derived.iv;
  } else {
    key = s.key;
    iv = s.iv ?? random(bs);
  }
  if (iv.length !== bs) throw new CryptoInputError(`IV must be exactly ${bs} bytes long`);
  return { key, iv };
}

/** Pads the plaintext as Crypt::CBC's finish() does (whole blocks out). */
export function pad(mode: PaddingMode, data: Uint8Array, bs: number): Uint8Array {
  const r = data.length % bs;
  const fill = bs - r;
  let byte = 0, marker = false;
  switch (mode) {
    case "standard":
      byte = fill;
      break;
    case "space":
      byte = 32;
      break;
    case "oneandzeroes":
      marker = true;
      break;
    case "null":
      break;
    case "rijndael_compat":
      if (r !== 0) {
        throw new CryptoInputError(
          `When using rijndael_compat padding, plaintext size must be a multiple of ${bs}`,
        );
      }
      return data;
    case "none":
      // Crypt::CBC XORs a short last block with the IV as is, which equals zero-filling it.
      if (r === 0) return data;
      break;
  }
  const out = new Uint8Array(data.length + fill);
  out.set(data);
  out.fill(byte, data.length);
  if (marker) out[data.length] = 0x80;
  return out;
}

/** Removes the padding of the last block as Crypt::CBC does, refusing PKCS#5 garbage. */
export function unpad(mode: PaddingMode, data: Uint8Array, bs: number): Uint8Array {
  const n = data.length;
  const last = n - bs;
  let end = n;
  switch (mode) {
    case "standard": {
      const p = data[n - 1];
      let ok = p >= 1 && p <= bs;
      for (let i = n - p; ok && i < n; i++) ok = data[i] === p;
      if (!ok) throw badPadding();
      end = n - p;
      break;
    }
    case "null":
    case "space": {
      const b = mode === "null" ? 0 : 32;
      while (end > last && data[end - 1] === b) end--;
      break;
    }
    case "oneandzeroes":
    case "rijndael_compat": {
      let i = n;
      while (i > last && data[i - 1] === 0) i--;
      if (i > last && data[i - 1] === 0x80) end = i - 1;
      else if (mode === "oneandzeroes") throw badPadding();
      break;
    }
    case "none":
      break;
  }
  return data.subarray(0, end);
}

function badPadding(): CryptoInputError {
  return new CryptoInputError(
    "Decryption operation failed: bad padding (wrong key, wrong cipher or padding mode, or corrupted ciphertext)",
  );
}

const SALTED = new TextEncoder().encode("Salted__");
const RANDOM_IV = new TextEncoder().encode("RandomIV");

function startsWith(data: Uint8Array, prefix: Uint8Array): boolean {
  if (data.length < prefix.length + 8) return false;
  return prefix.every((b, i) => data[i] === b);
}

/** Crypt::CBC->encrypt: header + CBC(padded plaintext). */
export async function cbcEncrypt(s: CbcSettings, plain: Uint8Array): Promise<Uint8Array> {
  const bs = s.cipher.blockSize;
  // Local copy: a concurrent call on the same cipher may replace s.salt while we await.
  const salt = s.fixedSalt ?? random(8);
  s.salt = salt;
  const { key, iv } = await setKeyAndIv(s, salt);
  const header = s.header === "salt"
    ? concat(SALTED, salt)
    : s.header === "randomiv"
    ? concat(RANDOM_IV, iv)
    : new Uint8Array(0);
  const body = await engineFor(s.cipher, key).encrypt(pad(s.padding, plain, bs), iv);
  return concat(header, body);
}

/** Crypt::CBC->decrypt: reads the header, derives key and IV, decrypts and unpads. */
export async function cbcDecrypt(s: CbcSettings, data: Uint8Array): Promise<Uint8Array> {
  const bs = s.cipher.blockSize;
  let key: Uint8Array, iv: Uint8Array, body: Uint8Array;
  if (s.header === "salt") {
    if (!startsWith(data, SALTED)) {
      throw new MissingHeaderError(
        "Ciphertext does not begin with a valid header for 'salt' header mode (expected 'Salted__' and an 8-byte salt)",
      );
    }
    const salt = data.slice(8, 16);
    const derived = await keyAndIv(s, salt);
    key = s.key ?? derived.key;
    iv = s.iv ?? derived.iv;
    body = data.subarray(16);
  } else if (s.header === "randomiv") {
    if (!startsWith(data, RANDOM_IV)) {
      throw new MissingHeaderError(
        "Ciphertext does not begin with a valid header for 'randomiv' header mode (expected 'RandomIV' and an 8-byte IV)",
      );
    }
    iv = data.slice(8, 16);
    key = (await keyAndIv(s, undefined)).key;
    body = data.subarray(16);
  } else {
    s.salt ??= random(8);
    ({ key, iv } = await setKeyAndIv(s, s.salt));
    body = data;
  }
  if (iv.length !== bs) {
    throw new CryptoInputError(
      "Could not derive key or iv from cipher stream, and you did not specify these values in new()",
    );
  }
  if (body.length === 0 && s.padding === "rijndael_compat") return body;
  if (body.length === 0 || body.length % bs !== 0) {
    throw new CryptoInputError(
      `Decryption operation failed: ciphertext body of ${body.length} bytes is not a positive multiple of the ${bs}-byte ${s.cipher.name} block (truncated, or not ${s.cipher.name} data)`,
    );
  }
  const plain = await engineFor(s.cipher, key).decrypt(body, iv);
  return unpad(s.padding, plain, bs);
}
