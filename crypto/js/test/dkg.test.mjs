// Threshold decryption checks against crypto/testdata/dkg_v1.json (protocol §7).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { E, hex, need } from '../testlib/helpers.mjs';

const pt = (h) => E.decodeElement(hex(h));

test('dkg_v1: dealings decode (JSON = binary), proofs verify, public key = Σ commitments', (t) => {
  const v = need(t, 'dkg_v1.json');
  if (!v) return;
  const pub = E.parsePublicKey(v.public_key);
  const ds = v.dealings.map((d, i) => {
    const a = E.decodeDealing(d);
    const b = E.decodeDealing(hex(v.dealings_binary[i]));
    assert.equal(E.toHex(E.dealingContext(a)), v.schnorr_contexts[i]);
    assert.ok(a.commitments.every((c, l) => c.equals(b.commitments[l])));
    assert.equal(E.toHex(a.proof), E.toHex(b.proof));
    assert.equal(E.verifyDealing(a), true);
    assert.equal(E.verifyDealing(a, { ceremony: v.ceremony, n: v.n, threshold: v.threshold }), true);
    assert.equal(E.verifyDealing(a, { ceremony: 'other', n: v.n, threshold: v.threshold }), false);
    return a;
  });
  const p = E.publicFromDealings(ds);
  assert.ok(p.K.equals(pub.K));
  p.X.forEach((X, i) => assert.ok(X.equals(pub.X[i]), `X_${i + 1}`));
});

test('dkg_v1: every invalid dealing fails', (t) => {
  const v = need(t, 'dkg_v1.json');
  if (!v) return;
  for (const x of v.invalid_dealings) {
    let ok;
    try {
      ok = E.verifyDealing(E.decodeDealing(x.dealing), { ceremony: v.ceremony, n: v.n, threshold: v.threshold });
    } catch {
      ok = false;
    }
    assert.equal(ok, false, x.name);
  }
});

test('dkg_v1: partials decode (JSON = binary) and their DLEQ proofs verify', (t) => {
  const v = need(t, 'dkg_v1.json');
  if (!v) return;
  const pub = E.parsePublicKey(v.public_key);
  const mh = hex(v.manifest_hash);
  const alphas = v.alphas.map(pt);
  v.partials.forEach((pj, i) => {
    const a = E.decodePartial(pj);
    const b = E.decodePartial(hex(v.partials_binary[i]));
    assert.equal(a.trustee, b.trustee);
    a.D.forEach((D, k) => assert.ok(D.equals(b.D[k])));
    E.verifyPartial(pub, mh, alphas, a);
    E.verifyPartial(pub, mh, alphas, b);
    assert.throws(() => E.verifyPartial(pub, mh, alphas.slice().reverse(), a));
  });
});

test('dkg_v1: every k-subset combines to the same x·α', (t) => {
  const v = need(t, 'dkg_v1.json');
  if (!v) return;
  const pub = E.parsePublicKey(v.public_key);
  const mh = hex(v.manifest_hash);
  const alphas = v.alphas.map(pt);
  const partials = v.partials.map(E.decodePartial);
  for (const c of v.combinations) {
    const ps = c.trustees.map((j) => partials.find((p) => p.trustee === j));
    const xa = E.combinePartials(pub, mh, alphas, ps);
    assert.deepEqual(xa.map((P) => E.toHex(P.toBytes())), c.x_alpha, String(c.trustees));
  }
  assert.throws(() => E.combinePartials(pub, mh, alphas, partials.slice(0, 1)), /need/);
  assert.throws(() => E.combinePartials(pub, mh, alphas, [partials[0], partials[0]]), /twice/);
});

test('dkg_v1: every invalid partial is rejected', (t) => {
  const v = need(t, 'dkg_v1.json');
  if (!v) return;
  assert.ok(v.invalid_partials.length > 0);
  for (const x of v.invalid_partials) {
    assert.throws(() => {
      const pub = E.parsePublicKey(x.public_key);
      E.verifyPartial(pub, hex(x.manifest_hash), x.alphas.map(pt), E.decodePartial(x.partial));
    }, x.name);
  }
});

test('dkg_v1: every invalid encoding (dealing, share, complaint, partial) is rejected', (t) => {
  const v = need(t, 'dkg_v1.json');
  if (!v) return;
  let n = 0;
  for (const x of v.invalid_encodings) {
    const dec = { dealing: E.decodeDealing, partial: E.decodePartial, share: E.decodeShare, complaint: E.decodeComplaint }[x.kind];
    assert.ok(dec, `unknown kind ${x.kind}`);
    const data = x.format === 'binary' ? hex(x.data) : x.data;
    assert.throws(() => dec(data), x.name);
    n++;
  }
  assert.ok(n > 0);
});

test('dkg_v1: shares decode (JSON = binary) and lie on their dealing', (t) => {
  const v = need(t, 'dkg_v1.json');
  if (!v) return;
  const ds = v.dealings.map(E.decodeDealing);
  assert.equal(v.shares.length, 9);
  v.shares.forEach((sj, i) => {
    const a = E.decodeShare(sj);
    const b = E.decodeShare(hex(v.shares_binary[i]));
    assert.deepEqual(a, b);
    const d = ds.find((x) => x.dealer === a.dealer);
    assert.equal(E.verifyShare(d, a), true, `share ${a.dealer}→${a.recipient}`);
    assert.equal(E.verifyShare(d, { ...a, value: (a.value + 1n) % E.L }), false);
    assert.equal(E.verifyShare(ds.find((x) => x.dealer !== a.dealer), a), false);
  });
});

test('dkg_v1: complaints decode and adjudicate as Go', (t) => {
  const v = need(t, 'dkg_v1.json');
  if (!v) return;
  const c = v.complaint;
  const cp = E.decodeComplaint(c.complaint);
  assert.deepEqual(E.decodeComplaint(hex(c.complaint_binary)), cp);
  assert.equal(cp.value, E.decodeShare(c.bad_share).value);
  const d = E.decodeDealing(v.dealings.find((x) => x.dealer === cp.dealer));
  assert.equal(E.adjudicate(d, cp, null), c.disqualify_without_answer);
  assert.equal(E.adjudicate(d, cp, E.decodeShare(c.valid_answer)), c.disqualify_with_valid_answer);
  assert.equal(E.adjudicate(d, cp, E.decodeShare(c.wrong_answer)), c.disqualify_with_wrong_answer);
  const un = E.decodeComplaint(c.unjustified_complaint);
  assert.equal(E.adjudicate(E.decodeDealing(v.dealings.find((x) => x.dealer === un.dealer)), un, null), c.disqualify_unjustified);
  assert.throws(() => E.adjudicate(E.decodeDealing(v.dealings.find((x) => x.dealer !== cp.dealer)), cp, null));
});
