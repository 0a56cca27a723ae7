// Shared test helpers: the bundle under test and the Go test vectors.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const JS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
export const TESTDATA = join(JS_DIR, '..', 'testdata');
export const BUNDLE = join(JS_DIR, 'dist', 'eballot.min.js');

// Tests exercise the committed bundle (what ships is what is tested).
export const E = await import(BUNDLE);

/** Parsed crypto/testdata/<name>, or null when the file does not exist yet. */
export function vectors(name) {
  const p = join(TESTDATA, name);
  return existsSync(p) ? JSON.parse(readFileSync(p, 'utf8')) : null;
}

/**
 * The vectors of crypto/testdata/<name>; a missing file fails the test (a
 * test that cannot run must fail, not skip), saying how to make it.
 */
export function need(t, name) {
  const v = vectors(name);
  if (!v) throw new Error(`crypto/testdata/${name} is missing (t: ${t.name}): run go run ./crypto/internal/genvectors, or restore it from git`);
  return v;
}

export const hex = (s) => E.fromHex(s);
export const utf8 = (s) => new TextEncoder().encode(s);

/** Flips one bit of a copy of b at index i. */
export function flip(b, i, bit = 1) {
  const c = Uint8Array.from(b);
  c[i] ^= bit;
  return c;
}

/**
 * A valid test manifest (two yes/no questions by default) with a fresh
 * election key x·G, RSA-2048 issuer key and Ed25519 log key (WebCrypto only,
 * so that the tests need no node_modules).
 * Returns {manifest, x, issuer: CryptoKeyPair, hash}.
 */
export async function testManifest(questions) {
  const x = E.randomScalar();
  const issuer = await crypto.subtle.generateKey(
    { name: 'RSA-PSS', modulusLength: 2048, publicExponent: Uint8Array.of(1, 0, 1), hash: 'SHA-384' }, true, ['sign', 'verify']);
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', issuer.publicKey));
  const ed = await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify']);
  const pub = Uint8Array.of(1, ...new Uint8Array(await crypto.subtle.exportKey('raw', ed.publicKey)));
  const name = 'ledger.test';
  const logKey = `${name}+${E.keyHash(name, pub).toString(16).padStart(8, '0')}+${E.toBase64(pub)}`;
  const yn = (id) => ({ id, text: `Do you support ${id}?`, options: [{ id: 'yes', label: 'Yes' }, { id: 'no', label: 'No' }], min: 1, max: 1 });
  const manifest = {
    version: 1, election_id: 'js-test', kind: 'industrial_action', title: 'Test ballot',
    opens_at: '2026-11-01T09:00:00Z', closes_at: '2026-11-30T17:00:00Z',
    texts: { s229: 'If you take part in a strike…' },
    questions: questions ?? [yn('strike'), yn('asos')],
    styles: [{ id: 'main', name: 'Main', issuer_key: E.toBase64(spki), entitled: 100 }],
    trustees: { threshold: 1, election_key: E.toHex(E.encodeElement(E.G.multiply(x))), public_keys: [E.toHex(E.encodeElement(E.G.multiply(x)))] },
    log_key: logKey,
    regime: { id: 'era25', name: 'TULRCA 1992 as amended by the Employment Rights Act 2025', turnout_threshold: true, support_threshold: false, mandate_months: 12, code_of_practice: 'Industrial Action Ballots and Notice to Employers (2017)' },
  };
  return { manifest, x, issuer, hash: E.manifestHash(manifest) };
}

/** Decrypts a ciphertext with x and returns m ≤ max (test only). */
export function decryptSmall(x, alpha, beta, max = 64) {
  const M = beta.subtract(alpha.multiply(x));
  for (let m = 0; m <= max; m++) if (M.equals(m === 0 ? E.G.subtract(E.G) : E.G.multiply(BigInt(m)))) return m;
  return -1;
}
