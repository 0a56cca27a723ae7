// Go → JS: canonical JSON, manifest and ballot vectors (protocol §3, §4) from crypto/testdata.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { E, decryptSmall, hex, need, utf8 } from '../testlib/helpers.mjs';
import { hintsSize } from '../src/ballot.mjs';
import { elementHint } from '../src/group.mjs';

test('canonical_json_v1: every valid input canonicalizes exactly (text and bytes)', (t) => {
  const v = need(t, 'canonical_json_v1.json');
  if (!v) return;
  assert.ok(v.valid.length > 0);
  for (const x of v.valid) {
    assert.equal(E.toHex(utf8(x.input)), x.input_hex, x.name);
    assert.equal(E.canonicalize(hex(x.input_hex)), x.canonical, x.name);
    assert.equal(E.canonicalize(x.input), x.canonical, x.name);
    assert.equal(E.toHex(utf8(x.canonical)), x.canonical_hex, x.name);
    // JSON.parse + canonicalJSON of the value agrees (JavaScript's view).
    assert.equal(E.canonicalJSON(JSON.parse(x.input)), x.canonical, x.name);
    // Canonical form is a fixed point.
    assert.equal(E.canonicalize(x.canonical), x.canonical, x.name);
  }
});

test('canonical_json_v1: every invalid input is rejected', (t) => {
  const v = need(t, 'canonical_json_v1.json');
  if (!v) return;
  assert.ok(v.invalid.length > 0);
  for (const x of v.invalid) {
    assert.throws(() => E.canonicalize(hex(x.input_hex)), `${x.name}: ${x.reason}`);
    if (x.stage === 'value') {
      // Also rejected on the JavaScript-value path (JSON.parse, then canonicalJSON).
      let text;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(hex(x.input_hex));
      } catch {
        continue; // invalid UTF-8 never becomes a JS value
      }
      assert.throws(() => E.canonicalJSON(JSON.parse(text)), `${x.name} (value path)`);
    }
  }
});

test('manifest_v1: canonical form and manifest hash reproduce; parse accepts it', async (t) => {
  const v = need(t, 'manifest_v1.json');
  if (!v) return;
  assert.equal(E.canonicalJSON(v.manifest), v.canonical);
  assert.equal(E.toHex(E.manifestHash(v.manifest)), v.hash);
  const p = await E.parseManifest(JSON.stringify(v.manifest, null, 1));
  assert.equal(p.canonical, v.canonical);
  assert.equal(E.toHex(p.hash), v.hash);
  assert.equal(E.ballotSize(v.manifest), v.ballot_size);
  const lower = (o) => Object.fromEntries(Object.entries(o).map(([k, x]) => [k.toLowerCase(), x]));
  assert.deepEqual(v.manifest.questions.map((q) => ({ options: q.options.length, min: q.min, max: q.max })), v.shape.map(lower));
  const x = E.decodeScalar(hex(v.election_secret_key));
  assert.equal(E.toHex(E.encodeElement(E.G.multiply(x))), v.manifest.trustees.election_key);
});

test('manifest_v1: every invalid manifest is rejected', async (t) => {
  const v = need(t, 'manifest_v1.json');
  if (!v) return;
  assert.ok(v.invalid.length > 0);
  for (const x of v.invalid) await assert.rejects(E.parseManifest(x.json), `${x.name}: ${x.reason}`);
});

test('manifest_v2: a union election with a ranked question and election addresses reproduces its hash and size', async (t) => {
  const v = need(t, 'manifest_v2.json');
  if (!v) return;
  assert.equal(E.canonicalJSON(v.manifest), v.canonical);
  const p = await E.parseManifest(JSON.stringify(v.manifest, null, 1));
  assert.equal(p.canonical, v.canonical);
  assert.equal(E.toHex(p.hash), v.hash);
  assert.equal(E.ballotSize(v.manifest), v.ballot_size);
  assert.deepEqual(v.manifest.questions.map((q) => q.method === 'ranked'), v.shape.map((s) => s.ranked === true));
});

test('manifest_v2: every invalid manifest is rejected', async (t) => {
  const v = need(t, 'manifest_v2.json');
  if (!v) return;
  assert.ok(v.invalid.length > 0);
  for (const x of v.invalid) await assert.rejects(E.parseManifest(x.json), `${x.name}: ${x.reason}`);
});

test('manifest_independent_v1: the s.51A independent person (protocol 7) parses to the Go hash; every invalid one is rejected', async (t) => {
  const v = need(t, 'manifest_independent_v1.json');
  if (!v) return;
  const p = await E.parseManifest(JSON.stringify(v.manifest, null, 1));
  assert.equal(p.canonical, v.canonical);
  assert.equal(E.toHex(p.hash), v.hash);
  assert.deepEqual({ ...p.manifest.independent_person }, { name: 'Ruth Jones, Independent Counts Ltd', trustee: 2 });
  assert.ok(v.invalid.length >= 8);
  for (const x of v.invalid) await assert.rejects(E.parseManifest(x.json), `${x.name}: ${x.reason}`);
});

test('manifest_v1 bilingual: a Welsh translation (§3.1) parses to the same hash; every broken one is rejected', async (t) => {
  const v = need(t, 'manifest_v1.json');
  if (!v) return;
  const b = v.bilingual;
  const p = await E.parseManifest(JSON.stringify(b.manifest, null, 1));
  assert.equal(p.canonical, b.canonical);
  assert.equal(E.toHex(p.hash), b.hash);
  assert.notEqual(b.hash, v.hash);
  assert.ok(b.invalid.length >= 5);
  for (const x of b.invalid) await assert.rejects(E.parseManifest(x.json), `${x.name}: ${x.reason}`);
});

function ballotVectors(t) {
  const m = need(t, 'manifest_v1.json');
  const v = m && need(t, 'ballot_v1.json');
  return v ? { manifest: m.manifest, mh: hex(m.hash), x: E.decodeScalar(hex(m.election_secret_key)), v } : null;
}

test('ballot_v1: Go ballots decode, verify, re-encode identically; tracker, short code, audit', (t) => {
  const f = ballotVectors(t);
  if (!f) return;
  const { manifest, mh, v } = f;
  assert.equal(E.toHex(mh), v.manifest_hash);
  assert.equal(manifest.trustees.election_key, v.election_key);
  assert.ok(v.valid.length > 0);
  for (const b of v.valid) {
    const bytes = hex(b.binary);
    const d = E.decodeBallot(manifest, mh, bytes);
    assert.equal(d.style, b.style, b.name);
    assert.equal(E.verifyBallot(manifest, mh, d), true, b.name);
    assert.equal(E.toHex(E.encodeBallot(d)), b.binary, b.name);
    const jText = typeof b.json === 'string' ? b.json : JSON.stringify(b.json);
    const dj = E.ballotFromJSON(manifest, mh, jText);
    assert.equal(E.toHex(E.encodeBallot(dj)), b.binary, `${b.name} (json)`);
    assert.equal(E.encodeBallotJSON(d), E.canonicalize(jText), `${b.name} (json re-encoding)`);
    const T = E.tracker(mh, bytes);
    assert.equal(E.toHex(T), b.tracker, b.name);
    assert.equal(E.shortCode(T), b.short_code, b.name);
    assert.equal(E.checkAudit(manifest, d, b.audit.choices, b.audit.nonces), true, `${b.name} (audit)`);
    assert.deepEqual(b.audit.choices, b.choices);
    const wrong = b.audit.choices.map((q) => q.slice().reverse());
    assert.equal(E.checkAudit(manifest, d, wrong, b.audit.nonces), false, `${b.name} (wrong audit)`);
    E.ballotCiphertexts(d).forEach((q, qi) => q.forEach((ct, oi) => assert.equal(decryptSmall(f.x, ct.alpha, ct.beta), b.choices[qi][oi])));
  }
});

test('ballot_v1: with the Go hints (§4.5) every ballot decodes to the same points; a wrong hint is named', (t) => {
  const f = ballotVectors(t);
  if (!f) return;
  const { manifest, mh, v } = f;
  for (const b of v.valid) {
    const bytes = hex(b.binary);
    const h = hex(b.hints);
    assert.equal(h.length, hintsSize(manifest), b.name);
    const full = E.decodeBallot(manifest, mh, bytes);
    const d = E.decodeBallot(manifest, mh, bytes, h);
    assert.equal(E.toHex(E.encodeBallot(d)), b.binary, b.name);
    assert.equal(E.verifyBallot(manifest, mh, d), true, b.name);
    const [cf, ch] = [E.ballotCiphertexts(full), E.ballotCiphertexts(d)];
    cf.forEach((q, qi) => q.forEach((ct, oi) => {
      assert.ok(ct.alpha.equals(ch[qi][oi].alpha) && ct.beta.equals(ch[qi][oi].beta), `${b.name} ${qi}/${oi}`);
    }));
    // The hint of each element, computed here, is Go's.
    const els = [];
    for (let i = 0; i < h.length / 32; i++) els.push(h.subarray(32 * i, 32 * i + 32));
    assert.equal(E.toHex(elementHint(bytes.subarray(39, 71))), E.toHex(els[0]), b.name);
    for (const [i, bit] of [[0, 0], [33, 3], [h.length - 1, 7], [100, 6]]) {
      const w = h.slice();
      w[i] ^= 1 << bit;
      assert.throws(() => E.decodeBallot(manifest, mh, bytes, w), (e) => e.kind === 'hint', `${b.name} byte ${i}`);
    }
    assert.throws(() => E.decodeBallot(manifest, mh, bytes, h.subarray(32)), (e) => e.kind === 'hint', b.name);
    const bad = bytes.slice();
    bad.fill(0, 39, 71); // identity α: malformed whatever the hints
    assert.throws(() => E.decodeBallot(manifest, mh, bad, h), (e) => e.kind === 'malformed', b.name);
  }
});

test('ballot_v1: every invalid ballot is rejected with the same error kind as Go', (t) => {
  const f = ballotVectors(t);
  if (!f) return;
  const { manifest, mh, v } = f;
  assert.ok(v.invalid.length > 0);
  for (const x of v.invalid) {
    let kind = 'ok';
    try {
      const d = 'json' in x
        ? E.ballotFromJSON(manifest, mh, typeof x.json === 'string' ? x.json : JSON.stringify(x.json))
        : E.decodeBallot(manifest, mh, hex(x.binary ?? ''));
      if (!E.verifyBallot(manifest, mh, d)) kind = 'bad_proof';
    } catch (e) {
      kind = e.kind ?? `untyped: ${e.message}`;
    }
    assert.equal(kind, x.error, `${x.name}: ${x.reason}`);
  }
});

test('ballot_v1: homomorphic sums per style, question and option match the tally', (t) => {
  const f = ballotVectors(t);
  if (!f) return;
  const { manifest, mh, v } = f;
  const ballots = v.valid.map((b) => E.decodeBallot(manifest, mh, hex(b.binary)));
  v.tally.forEach((style, s) => {
    const mine = ballots.filter((b) => b.style === s);
    if (mine.length === 0) return;
    const sums = E.sumBallots(mine);
    style.forEach((q, qi) => q.forEach((o, oi) => {
      const ct = sums[qi][oi];
      assert.equal(E.toHex(ct.alpha.toBytes()) + E.toHex(ct.beta.toBytes()), o.ciphertext, `style ${s} q${qi} o${oi}`);
      assert.equal(E.checkCount(ct.beta, ct.alpha.multiply(f.x), o.count), true);
      assert.equal(E.decryptCount(ct.beta, ct.alpha.multiply(f.x), mine.length), o.count);
    }));
  });
});

test('js_ballots_v1: the committed JS → Go vectors are consistent (JS side)', (t) => {
  const v = need(t, 'js_ballots_v1.json');
  if (!v) return;
  const mh = hex(v.manifest_hash);
  assert.equal(E.canonicalJSON(v.manifest), v.manifest_canonical);
  assert.equal(E.toHex(E.manifestHash(v.manifest)), v.manifest_hash);
  for (const b of v.valid) {
    const d = E.decodeBallot(v.manifest, mh, hex(b.binary));
    assert.equal(E.verifyBallot(v.manifest, mh, d), true, b.name);
    assert.equal(E.encodeBallotJSON(d), b.json, b.name);
    assert.equal(E.toHex(E.tracker(mh, hex(b.binary))), b.tracker, b.name);
    assert.equal(E.shortCode(hex(b.tracker)), b.short_code, b.name);
    assert.equal(E.checkAudit(v.manifest, d, b.audit.choices, b.audit.nonces), true, b.name);
    assert.deepEqual(b.audit.choices, b.choices);
  }
  for (const x of v.invalid) {
    let kind = 'ok';
    try {
      if (!E.verifyBallot(v.manifest, mh, E.decodeBallot(v.manifest, mh, hex(x.binary)))) kind = 'bad_proof';
    } catch (e) {
      kind = e.kind;
    }
    assert.equal(kind, x.error, x.name);
  }
});
