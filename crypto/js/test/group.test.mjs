// Known answers (design/stack.md §1, §6) and strict codecs (protocol §2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { E, hex, utf8 } from '../testlib/helpers.mjs';

test('12345·G matches circl', () => {
  assert.equal(E.toHex(E.encodeElement(E.G.multiply(12345n))), 'b4c1b3cdef7ba1bd94fa95c7b736622046ef663285813c2293c52c5f4f9fb011');
  assert.equal(E.toHex(E.encodeScalar(12345n)).slice(0, 4), '3930');
});

test('hashToScalar matches circl HashToScalar (32-byte LE)', () => {
  assert.equal(E.toHex(E.encodeScalar(E.hashToScalar('evote-v1-chal', utf8('msg')))), 'a532be3b5e98a990a59216036807991eaadd7ee25a91fa054a8cf243b5fb7705');
});

test('element decoding is strict', () => {
  assert.throws(() => E.decodeElement(new Uint8Array(32).fill(0xff)));
  assert.throws(() => E.decodeElement(new Uint8Array(32)), /identity/); // identity rejected by default
  assert.ok(E.decodeElement(new Uint8Array(32), true).equals(E.G.subtract(E.G)));
  assert.throws(() => E.decodeElement(new Uint8Array(31)));
  // Non-canonical: the field element p = 2^255 − 19 encodes 0.
  const p = hex('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f');
  assert.throws(() => E.decodeElement(p, true));
  // A negative field element (odd LSB) is not canonical.
  assert.throws(() => E.decodeElement(hex('0100000000000000000000000000000000000000000000000000000000000000'), true));
  const P = E.G.multiply(7n);
  assert.ok(E.decodeElement(E.encodeElement(P)).equals(P));
});

test('scalar decoding is strict (< ℓ)', () => {
  const l = E.encodeScalar(0n);
  assert.equal(E.decodeScalar(l), 0n);
  const lBytes = hex('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010');
  assert.throws(() => E.decodeScalar(lBytes), /non-canonical/);
  assert.throws(() => E.decodeScalar(new Uint8Array(32).fill(0xff)));
  const lm1 = Uint8Array.from(lBytes);
  lm1[0] -= 1;
  assert.equal(E.decodeScalar(lm1), E.L - 1n);
  assert.throws(() => E.decodeScalar(new Uint8Array(33)));
});

test('random scalars are distinct and in range', () => {
  const a = E.randomScalar();
  const b = E.randomScalar();
  assert.notEqual(a, b);
  assert.ok(a > 0n && a < E.L);
});

test('hex is strict lowercase', () => {
  assert.throws(() => E.fromHex('AB'));
  assert.throws(() => E.fromHex('abc'));
  assert.throws(() => E.fromHex('zz'));
  assert.throws(() => E.fromHex('abcd', 1));
  assert.deepEqual(E.fromHex('00ff'), Uint8Array.of(0, 255));
});
