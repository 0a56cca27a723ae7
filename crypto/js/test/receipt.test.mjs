// Ledger: RFC 6962 proofs, note checkpoints and receipts against crypto/testdata/receipt_v1.json (protocol §6).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { E, hex, need } from '../testlib/helpers.mjs';

const hs = (a) => a.map(hex);

test('receipt_v1: leaves, roots and entries', (t) => {
  const v = need(t, 'receipt_v1.json');
  if (!v) return;
  v.entries.forEach((e, i) => assert.equal(E.toHex(E.leafHash(hex(e))), v.leaves[i]));
  // Roots from inclusion proofs must match the listed roots.
  const roots = new Map(v.roots.map((r) => [r.size, r.root]));
  for (const p of v.inclusion_proofs) {
    const leaf = hex(v.leaves[p.index]);
    assert.equal(E.verifyInclusion(p.index, p.size, leaf, hs(p.proof), hex(roots.get(p.size))), true, `incl ${p.index}/${p.size}`);
    assert.equal(E.verifyInclusion(p.index, p.size, hex(v.leaves[(p.index + 1) % v.leaves.length]), hs(p.proof), hex(roots.get(p.size))), false, 'wrong leaf');
    if (p.proof.length > 0) {
      const bad = hs(p.proof);
      bad[0] = E.fromHex(p.proof[0].replace(/^./, (c) => (c === '0' ? '1' : '0')));
      assert.equal(E.verifyInclusion(p.index, p.size, leaf, bad, hex(roots.get(p.size))), false);
    }
  }
  for (const c of v.consistency_proofs) {
    assert.equal(E.verifyConsistency(c.old, c.new, hs(c.proof), hex(roots.get(c.old)), hex(roots.get(c.new))), true, `cons ${c.old}→${c.new}`);
    if (c.proof.length > 0) assert.equal(E.verifyConsistency(c.old, c.new, hs(c.proof).slice(1), hex(roots.get(c.old)), hex(roots.get(c.new))), false);
  }
});

test('receipt_v1: checkpoints open with the ledger key, not another', (t) => {
  const v = need(t, 'receipt_v1.json');
  if (!v) return;
  const vk = E.parseVerifierKey(v.verifier_key);
  assert.equal(vk.publicKey.length, 32);
  for (const c of v.checkpoints) {
    assert.equal(E.openNote(c.signed, v.verifier_key), c.text);
    const cp = E.openCheckpoint(c.signed, v.verifier_key);
    assert.equal(cp.size, c.size);
    assert.equal(cp.origin, v.origin);
    assert.throws(() => E.openCheckpoint(c.signed, v.other_verifier_key));
  }
  assert.throws(() => E.parseVerifierKey(v.verifier_key.replace(/\+([0-9a-f]{8})\+/, '+00000000+')));
  assert.throws(() => E.parseVerifierKey(v.signer_key));
});

test('receipt_v1: every invalid checkpoint is rejected', (t) => {
  const v = need(t, 'receipt_v1.json');
  if (!v) return;
  assert.ok(v.invalid_checkpoints.length > 0);
  for (const c of v.invalid_checkpoints) assert.throws(() => E.openCheckpoint(c.signed, v.verifier_key), c.name);
});

test('receipt_v1: a close says "closed", or "closed <time>" (protocol version 4)', (t) => {
  const v = need(t, 'receipt_v1.json');
  if (!v) return;
  assert.equal(v.closes.length, 2);
  for (const c of v.closes) {
    const cp = E.openCheckpoint(c.signed, v.verifier_key);
    assert.equal(cp.closed, true);
    assert.equal(cp.size, c.size);
    assert.equal(cp.closedAt, c.closed_at);
  }
});

test('receipt_v1: the receipt verifies, also against the later checkpoint', (t) => {
  const v = need(t, 'receipt_v1.json');
  if (!v) return;
  const r = E.parseReceipt(JSON.stringify(v.receipt.receipt));
  assert.deepEqual(E.receiptToJSON(r), v.receipt.receipt);
  const c = E.verifyReceipt(r, v.verifier_key, hex(v.receipt.entry));
  assert.equal(c.origin, E.checkpointOrigin(v.election_id));
  const lc = E.verifyReceiptAgainst(r, v.verifier_key, hex(v.receipt.entry), v.receipt.later_checkpoint, hs(v.receipt.consistency_proof));
  assert.ok(lc.size >= c.size);
  // The short code is the tracker's.
  assert.equal(E.shortCode(r.tracker), v.receipt.receipt.short_code);
});

test('receipt_v1: every invalid receipt is rejected at its stage', (t) => {
  const v = need(t, 'receipt_v1.json');
  if (!v) return;
  assert.ok(v.invalid_receipts.length > 0);
  for (const x of v.invalid_receipts) {
    if (x.stage === 'parse') {
      assert.throws(() => E.parseReceipt(JSON.stringify(x.receipt)), x.name);
      continue;
    }
    const r = E.parseReceipt(JSON.stringify(x.receipt));
    if (x.stage === 'verify') assert.throws(() => E.verifyReceipt(r, v.verifier_key, hex(x.entry)), x.name);
    else if (x.stage === 'against') {
      E.verifyReceipt(r, v.verifier_key, hex(x.entry)); // the receipt itself is fine
      assert.throws(() => E.verifyReceiptAgainst(r, v.verifier_key, hex(x.entry), x.later_checkpoint, hs(x.consistency_proof)), x.name);
    } else assert.fail(`unknown stage ${x.stage}`);
  }
});

test('receipt_v1: re-signing the checkpoints with the ledger seed reproduces the notes (format check)', async (t) => {
  const v = need(t, 'receipt_v1.json');
  if (!v) return;
  const name = 'ledger.eballot.test';
  const vk = E.parseVerifierKey(v.verifier_key);
  const b64u = (b) => Buffer.from(b).toString('base64url');
  const sk = await crypto.subtle.importKey('jwk', { kty: 'OKP', crv: 'Ed25519', d: b64u(hex(v.ledger_key_seed)), x: b64u(vk.publicKey) },
    { name: 'Ed25519' }, false, ['sign']);
  const kh = vk.hash;
  assert.equal(vk.name, name);
  for (const c of v.checkpoints) {
    const sig = new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, sk, new TextEncoder().encode(c.text)));
    const line = E.toBase64(Uint8Array.of(kh >>> 24, (kh >>> 16) & 255, (kh >>> 8) & 255, kh & 255, ...sig));
    assert.equal(`${c.text}\n\u2014 ${name} ${line}\n`, c.signed);
  }
});
