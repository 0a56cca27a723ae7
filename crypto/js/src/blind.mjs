// Anonymous authorisation client (docs/protocol.md §5): RFC 9474 blind RSA,
// RSABSSA-SHA384-PSS-Randomized, bound to the 32-byte ballot tracker T.
// An authorisation is prefix[32] ‖ signature[256].
import { BlindRSA } from '@cloudflare/blindrsa-ts/lib/src/blindrsa.js';
import { concat, equalBytes, fromBase64 } from './bytes.mjs';

export const PREFIX_SIZE = 32;
export const SIGNATURE_SIZE = 256;
export const AUTHORISATION_SIZE = PREFIX_SIZE + SIGNATURE_SIZE;

// As blindrsa-ts RSABSSA.SHA384.PSS.Randomized(), without importing its index
// (which would add the partially blind variant to the bundle). prepareType 32:
// Randomized, a 32-byte random prefix.
const PARAMS = { name: 'RSABSSA-SHA384-PSS-Randomized', hash: 'SHA-384', saltLength: 48, prepareType: 32, supportsRSARAW: false };
const suite = () => new BlindRSA(PARAMS);

/**
 * Imports a style's issuer key (base64 std padded DER SPKI, or its bytes) as
 * an RSA-PSS SHA-384 WebCrypto key. Rejects anything but 2048 bits, e = 65537.
 */
export async function importIssuerKey(spki) {
  const der = typeof spki === 'string' ? fromBase64(spki) : spki;
  const key = await crypto.subtle.importKey('spki', der, { name: 'RSA-PSS', hash: 'SHA-384' }, true, ['verify']);
  const { modulusLength, publicExponent: e } = key.algorithm;
  const e65537 = e.length >= 3 && e.slice(0, -3).every((x) => x === 0) && e[e.length - 3] === 1 && e[e.length - 2] === 0 && e[e.length - 1] === 1;
  if (modulusLength !== 2048 || !e65537) throw new Error('eballot: issuer key must be RSA-2048 with e = 65537');
  // As Go's blind.ParsePublicKey: the DER must be the canonical encoding.
  const re = new Uint8Array(await crypto.subtle.exportKey('spki', key));
  if (!equalBytes(re, der)) throw new Error('eballot: non-canonical issuer key encoding');
  return key;
}

function checkTracker(T) {
  if (!(T instanceof Uint8Array) || T.length !== 32) throw new Error('eballot: tracker must be 32 bytes');
}

/**
 * Prepares and blinds T for the issuer key. Returns {blindedMsg, state}:
 * send blindedMsg (256 bytes) to issuance over the member's session; keep
 * state (secret) for finalize.
 */
export async function blindTracker(issuerKey, T) {
  checkTracker(T);
  const s = suite();
  const prepared = s.prepare(T);
  const { blindedMsg, inv } = await s.blind(issuerKey, prepared);
  return { blindedMsg, state: { prepared, inv } };
}

/** Unblinds the issuer's blind signature, verifies it and returns the 288-byte authorisation. */
export async function finalizeAuthorisation(issuerKey, state, blindSig) {
  if (!(blindSig instanceof Uint8Array) || blindSig.length !== SIGNATURE_SIZE) throw new Error('eballot: blind signature must be 256 bytes');
  const sig = await suite().finalize(issuerKey, state.prepared, blindSig, state.inv);
  return concat(state.prepared.subarray(0, PREFIX_SIZE), sig);
}

/** Checks an authorisation (prefix ‖ signature) on T under the issuer key; true or false. */
export async function verifyAuthorisation(issuerKey, T, authorisation) {
  try {
    checkTracker(T);
    if (!(authorisation instanceof Uint8Array) || authorisation.length !== AUTHORISATION_SIZE) return false;
    const prepared = concat(authorisation.subarray(0, PREFIX_SIZE), T);
    return await suite().verify(issuerKey, authorisation.subarray(PREFIX_SIZE), prepared);
  } catch {
    return false;
  }
}
