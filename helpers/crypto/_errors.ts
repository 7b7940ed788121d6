/**
 * @module
 * The two expected failures of the `crypto` helper: `mod.ts` returns them as `error` instead of
 * letting them become an `Error in crypto.f` reply.
 */

/** An expected failure: bad options or undecryptable data. `mod.ts` returns it as `error`. */
export class CryptoInputError extends Error {
  override readonly name = "CryptoInputError";
}

/** Thrown when the ciphertext lacks the header its mode expects (the legacy-format hint). */
export class MissingHeaderError extends CryptoInputError {}
