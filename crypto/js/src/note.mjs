// Signed notes (golang.org/x/mod/sumdb/note) with Ed25519 keys, as used for
// ledger checkpoints (docs/protocol.md §6). Verification only.
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concat, utf8 } from './bytes.mjs';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
// unicode.IsSpace in Go.
const SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;

/** Go's base64.StdEncoding.DecodeString: padded, '\r' and '\n' ignored, non-zero trailing bits accepted. */
export function decodeBase64Go(s) {
  s = s.replace(/[\r\n]/g, '');
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*(|=|==)$/.test(s)) throw new Error('eballot: invalid base64');
  const n = s.replace(/=+$/, '').length;
  const out = new Uint8Array(Math.floor((n * 6) / 8));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < n; i++) {
    acc = ((acc << 6) | B64.indexOf(s[i])) & 0xffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (o < out.length) out[o++] = (acc >> bits) & 255;
    }
  }
  return out;
}

const isValidName = (name) => name !== '' && !SPACE.test(name) && !name.includes('+') && !/[\ud800-\udfff]/.test(name);

/** note key hash: first 4 bytes (big-endian uint32) of SHA-256(name ‖ "\n" ‖ key). */
export function keyHash(name, key) {
  const h = sha256(concat(utf8(name), utf8('\n'), key));
  return ((h[0] << 24) | (h[1] << 16) | (h[2] << 8) | h[3]) >>> 0;
}

/**
 * Parses a verifier key "name+hexhash+base64(0x01 ‖ pubkey)" in its one
 * accepted form (docs/protocol.md §6.1): lowercase hex hash, canonical
 * base64 of an Ed25519 key.
 */
export function parseVerifierKey(vkey) {
  const fail = () => { throw new Error('eballot: malformed verifier key'); };
  const i = vkey.indexOf('+');
  const name = i < 0 ? vkey : vkey.slice(0, i);
  const rest = i < 0 ? '' : vkey.slice(i + 1);
  const j = rest.indexOf('+');
  const hash16 = j < 0 ? rest : rest.slice(0, j);
  const key64 = j < 0 ? '' : rest.slice(j + 1);
  if (i < 0 || j < 0 || !/^[0-9a-f]{8}$/.test(hash16) || !isValidName(name) || utf8(name).length > 256) fail();
  const key = decodeBase64Canonical(key64);
  if (key === null || key.length === 0) fail();
  const hash = parseInt(hash16, 16) >>> 0;
  if (hash !== keyHash(name, key)) throw new Error('eballot: verifier key hash mismatch');
  if (key[0] !== 1) throw new Error('eballot: unknown verifier algorithm');
  if (key.length !== 33) fail();
  return { name, hash, publicKey: key.slice(1) };
}

/** Canonical standard padded base64 (what Go's base64.StdEncoding writes), or null. */
function decodeBase64Canonical(s) {
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*(|=|==)$/.test(s)) return null;
  const b = decodeBase64Go(s);
  let out = '';
  for (let i = 0; i < b.length; i += 3) {
    const n = (b[i] << 16) | ((b[i + 1] ?? 0) << 8) | (b[i + 2] ?? 0);
    out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63] + (i + 1 < b.length ? B64[(n >> 6) & 63] : '=') + (i + 2 < b.length ? B64[n & 63] : '=');
  }
  return out === s ? b : null;
}

/**
 * Opens a signed note with exactly one accepted form (docs/protocol.md
 * §6.1, as Go's crypto/internal/snote): UTF-8 without control characters
 * other than LF; the text up to the last blank line; one or more signature
 * lines "— <name> <canonical base64>", at most 100; exactly one of them by
 * the verifier key (name and key hash), and it verifies; lines of other
 * keys are ignored. Returns the text.
 */
export function openNote(signed, verifierKey) {
  const v = typeof verifierKey === 'string' ? parseVerifierKey(verifierKey) : verifierKey;
  const msg = typeof signed === 'string' ? utf8(signed) : signed;
  const str = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }); // a BOM is part of the text
  let s;
  try { s = str.decode(msg); } catch { throw new Error('eballot: malformed note'); }
  if (/[\u0000-\u0009\u000b-\u001f]/.test(s)) throw new Error('eballot: malformed note');
  const split = s.lastIndexOf('\n\n');
  if (split < 0) throw new Error('eballot: malformed note');
  const text = s.slice(0, split + 1);
  const sigs = s.slice(split + 2);
  if (sigs.length === 0 || !sigs.endsWith('\n')) throw new Error('eballot: malformed note');
  const textBytes = utf8(text);
  let mine = 0;
  let numSig = 0;
  for (const line of sigs.slice(0, -1).split('\n')) {
    if (++numSig > 100) throw new Error('eballot: malformed note');
    if (!line.startsWith('\u2014 ')) throw new Error('eballot: malformed note');
    const rest = line.slice(2);
    const k = rest.indexOf(' ');
    const name = k < 0 ? rest : rest.slice(0, k);
    const b64 = k < 0 ? '' : rest.slice(k + 1);
    const sig = k < 0 ? null : decodeBase64Canonical(b64);
    if (!isValidName(name) || sig === null || sig.length < 5) throw new Error('eballot: malformed note');
    const hash = ((sig[0] << 24) | (sig[1] << 16) | (sig[2] << 8) | sig[3]) >>> 0;
    if (name !== v.name || hash !== v.hash) continue; // another key (a witness): ignored
    if (++mine > 1) throw new Error(`eballot: more than one signature by ${name}`);
    let ok = false;
    try { ok = sig.length === 68 && ed25519.verify(sig.subarray(4), textBytes, v.publicKey, { zip215: false }); } catch { ok = false; }
    if (!ok) throw new Error(`eballot: invalid signature by ${name}`);
  }
  if (mine === 0) throw new Error('eballot: note has no verifiable signature');
  return text;
}
