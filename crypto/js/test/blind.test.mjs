// RFC 9474 blind RSA against crypto/testdata/blind_v1.json (protocol §5).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { E, flip, hex, need } from '../testlib/helpers.mjs';

const b64u = (s) => BigInt('0x' + Buffer.from(s, 'base64url').toString('hex'));
const toBytes = (n, len) => hex(n.toString(16).padStart(2 * len, '0'));
function modpow(b, e, m) {
  let r = 1n;
  for (b %= m; e > 0n; e >>= 1n, b = (b * b) % m) if (e & 1n) r = (r * b) % m;
  return r;
}

/** The issuer (test only): RSA private operation on a blinded message with the vector's key. */
async function issuer(v) {
  const sk = await crypto.subtle.importKey('pkcs8', hex(v.private_key_pkcs8), { name: 'RSA-PSS', hash: 'SHA-384' }, true, ['sign']);
  const jwk = await crypto.subtle.exportKey('jwk', sk);
  const n = b64u(jwk.n);
  const d = b64u(jwk.d);
  return (blinded) => toBytes(modpow(BigInt('0x' + E.toHex(blinded)), d, n), 256);
}

test('blind_v1: Go authorisation verifies; issuer key imports from manifest base64 and SPKI hex', async (t) => {
  const v = need(t, 'blind_v1.json');
  if (!v) return;
  assert.equal(v.variant, 'RSABSSA-SHA384-PSS-Randomized');
  const pk = await E.importIssuerKey(v.issuer_key);
  const pk2 = await E.importIssuerKey(hex(v.public_key_spki));
  const T = hex(v.tracker);
  assert.equal(v.prepared, v.prefix + v.tracker);
  assert.equal(v.authorisation, v.prefix + v.signature);
  assert.equal(await E.verifyAuthorisation(pk, T, hex(v.authorisation)), true);
  assert.equal(await E.verifyAuthorisation(pk2, T, hex(v.authorisation)), true);
});

test('blind_v1: Go blind signature on Go blinded message is a valid RSA signature on it', async (t) => {
  const v = need(t, 'blind_v1.json');
  if (!v) return;
  const sign = await issuer(v);
  assert.equal(E.toHex(sign(hex(v.blinded))), v.blind_signature);
});

test('blind_v1: every invalid authorisation is rejected', async (t) => {
  const v = need(t, 'blind_v1.json');
  if (!v) return;
  assert.ok(v.invalid.length > 0);
  for (const x of v.invalid) {
    const pk = await E.importIssuerKey(hex(x.public_key_spki));
    assert.equal(await E.verifyAuthorisation(pk, hex(x.tracker), hex(x.authorisation)), false, x.name);
  }
});

test('blind_v1: every invalid issuer key is rejected', async (t) => {
  const v = need(t, 'blind_v1.json');
  if (!v) return;
  assert.ok(v.invalid_keys.length > 0);
  for (const x of v.invalid_keys) await assert.rejects(E.importIssuerKey(hex(x.spki)), x.name);
});

test('JS blind → Go-key issuer → JS finalize: authorisation verifies, binds prefix and tracker', async (t) => {
  const v = need(t, 'blind_v1.json');
  if (!v) return;
  const pk = await E.importIssuerKey(v.issuer_key);
  const sign = await issuer(v);
  const T = crypto.getRandomValues(new Uint8Array(32));
  const { blindedMsg, state } = await E.blindTracker(pk, T);
  assert.equal(blindedMsg.length, 256);
  const auth = await E.finalizeAuthorisation(pk, state, sign(blindedMsg));
  assert.equal(auth.length, E.AUTHORISATION_SIZE);
  assert.equal(await E.verifyAuthorisation(pk, T, auth), true);
  assert.equal(await E.verifyAuthorisation(pk, flip(T, 0), auth), false);
  assert.equal(await E.verifyAuthorisation(pk, T, flip(auth, 3)), false);
  assert.equal(await E.verifyAuthorisation(pk, T, flip(auth, 100)), false);
  // A wrong blind signature fails finalize.
  await assert.rejects(E.finalizeAuthorisation(pk, state, flip(sign(blindedMsg), 7)));
  await assert.rejects(E.blindTracker(pk, new Uint8Array(31)));
});
