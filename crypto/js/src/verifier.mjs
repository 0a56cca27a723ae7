// Whole-election verification in the browser (docs/protocol.md §8), the
// twin of Go's crypto/verify + crypto/report.Check for small and medium
// ballots: the export (docs/export-format.md), the trustees' partial
// decryptions and the scrutineer's signed result. Its own bundle
// (dist/eballot-verifier.min.js), loaded only on the verifier page.
import { sha256 } from '@noble/hashes/sha2.js';
import { equalBytes, fromBase64, fromHex, toHex, utf8 } from './bytes.mjs';
import { parseStrictJSON } from './canonical.mjs';
import { parseManifest } from './manifest.mjs';
import { decodeBallot, verifyBallot, ballotCiphertexts } from './ballot.mjs';
import { tracker, shortCode } from './tracker.mjs';
import { importIssuerKey, verifyAuthorisation, AUTHORISATION_SIZE } from './blind.mjs';
import { leafHash, nodeHash } from './merkle.mjs';
import { openCheckpoint, checkpointOrigin } from './receipt.mjs';
import { openNote } from './note.mjs';
import { addCiphertexts } from './elgamal.mjs';
import { parsePublicKey, decodePartial, verifyPartial, combinePartials, decryptCount } from './tally.mjs';

/** The checks, in the order they are reported (ids shared with the page). */
export const CHECKS = ['manifest', 'checkpoints', 'entries', 'duplicates', 'counts', 'sums', 'partials', 'result'];

const MAX_FAILURES = 1000;
const EMPTY_ROOT = sha256(new Uint8Array(0));

/** Incremental RFC 6962 tree: the root of the leaves added so far. */
class Tree {
  constructor() { this.stack = []; this.size = 0; }
  add(leaf) {
    let h = leaf;
    let n = this.size;
    // Merge perfect subtrees of equal size (the binary carry of the size).
    while (n & 1) { h = nodeHash(this.stack.pop(), h); n = Math.floor(n / 2); }
    this.stack.push(h);
    this.size++;
  }
  root() {
    if (this.size === 0) return EMPTY_ROOT;
    let r = this.stack[this.stack.length - 1];
    for (let i = this.stack.length - 2; i >= 0; i--) r = nodeHash(this.stack[i], r);
    return r;
  }
}

/**
 * Verifies an election. input = {exportText, election, issued?: number[]|null,
 * result?: {report: string, signature: string}|null, partials?: object[]|null};
 * onProgress(done, total) is called as entries are checked. Returns
 * {checks: {id: {ok: boolean|null, failures: string[]}}, counts, entries}: ok
 * null means not applicable (e.g. no result published yet). Never throws on
 * bad data: every problem is a named failure.
 */
export async function verifyElection(input, onProgress = () => {}) {
  const checks = Object.fromEntries(CHECKS.map((c) => [c, { ok: true, failures: [] }]));
  const fail = (c, msg) => {
    checks[c].ok = false;
    if (checks[c].failures.length < MAX_FAILURES) checks[c].failures.push(msg);
  };
  const out = { checks, entries: 0, counts: null };
  const skipFrom = (i) => { for (const c of CHECKS.slice(i)) if (checks[c].ok) checks[c].ok = null; };

  // File structure, header and manifest.
  const lines = input.exportText.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let objs;
  try {
    objs = lines.map((l, i) => {
      try { return parseStrictJSON(l); } catch (e) { throw new Error(`line ${i + 1} is not JSON: ${e.message}`); }
    });
  } catch (e) {
    fail('manifest', `export file: ${e.message}`);
    skipFrom(1);
    return out;
  }
  const [header, mline] = objs;
  if (!header || header.type !== 'header' || header.format !== 'eballot-export' || header.version !== 1) {
    fail('manifest', 'export file: the first line is not an eballot-export version 1 header');
    skipFrom(1);
    return out;
  }
  if (header.election_id !== input.election) fail('manifest', `the export is of election "${header.election_id}", not "${input.election}"`);
  let manifest, mh;
  try {
    if (!mline || mline.type !== 'manifest') throw new Error('the second line is not the manifest');
    const raw = fromBase64(mline.manifest);
    const p = await parseManifest(new TextDecoder('utf-8', { fatal: true }).decode(raw));
    manifest = p.manifest;
    mh = sha256(raw);
    if (!equalBytes(mh, p.hash)) throw new Error('the manifest is not in canonical form');
    if (toHex(mh) !== header.manifest_hash) throw new Error(`its hash ${toHex(mh)} is not the header's manifest_hash ${header.manifest_hash}`);
    if (manifest.election_id !== header.election_id) throw new Error('its election id is not the header\'s');
    if (manifest.log_key !== header.log_key) throw new Error('its log key is not the header\'s');
  } catch (e) {
    fail('manifest', `manifest: ${e.message}`);
    skipFrom(1);
    return out;
  }
  if (!header.closed) fail('manifest', 'the export is of an election that is not closed');
  const keys = [];
  for (const [i, st] of manifest.styles.entries()) {
    try { keys.push(await importIssuerKey(st.issuer_key)); } catch (e) { fail('manifest', `issuer key of workplace ${st.id}: ${e.message}`); keys.push(null); }
  }

  // Entries and checkpoints, in file order.
  const tree = new Tree();
  const total = objs.filter((o) => o.type === 'entry').length;
  const seenT = new Map();
  const seenAlpha = new Map();
  const styleCounts = manifest.styles.map(() => 0);
  const valid = manifest.styles.map(() => []); // ciphertexts of the valid ballots per style
  let cps = 0;
  let end = null;
  let last = -1;
  for (const o of objs.slice(2)) {
    if (end) { fail('entries', 'data after the end line'); break; }
    if (o.type === 'checkpoint') {
      cps++;
      try {
        const c = openCheckpoint(o.note, manifest.log_key);
        if (c.origin !== checkpointOrigin(manifest.election_id)) throw new Error(`origin ${c.origin}`);
        if (c.size !== o.size || toHex(c.root) !== o.root) throw new Error('the signed size or root is not the line\'s');
        if (c.size !== tree.size) throw new Error(`it is at size ${c.size} after ${tree.size} entries`);
        if (!equalBytes(c.root, tree.root())) throw new Error('its root is not the Merkle root of the entries before it');
        last = c.size;
      } catch (e) {
        fail('checkpoints', `checkpoint ${o.size}: ${e.message}`);
      }
      continue;
    }
    if (o.type === 'end') { end = o; continue; }
    if (o.type !== 'entry') { fail('entries', `unknown line type ${o.type}`); continue; }
    const idx = o.index;
    let bytes;
    try { bytes = fromBase64(o.entry); } catch { fail('entries', `entry ${idx}: not base64`); continue; }
    if (idx !== tree.size) fail('entries', `entry ${idx}: out of order (expected index ${tree.size})`);
    tree.add(leafHash(bytes));
    out.entries++;
    const T = bytes.subarray(0, 32);
    const code = T.length === 32 ? shortCode(T) : '?';
    const name = `entry ${idx} (tracker ${code})`;
    let ok = true;
    try {
      if (bytes.length < 32 + AUTHORISATION_SIZE + 1) throw new Error('too short');
      const auth = bytes.subarray(32, 32 + AUTHORISATION_SIZE);
      const bb = bytes.subarray(32 + AUTHORISATION_SIZE);
      if (!equalBytes(tracker(mh, bb), T)) throw new Error('its tracker is not the hash of its ballot');
      const b = decodeBallot(manifest, mh, bb);
      if (b.style !== o.style) throw new Error(`recorded as workplace ${o.style}, the ballot is of workplace ${b.style}`);
      styleCounts[b.style]++;
      const th = toHex(T);
      if (seenT.has(th)) { fail('duplicates', `${name}: the tracker of entry ${seenT.get(th)} again`); ok = false; } else seenT.set(th, idx);
      for (const q of b.questions) for (const s of q.selections) {
        const ah = toHex(s.alpha);
        if (seenAlpha.has(ah)) { fail('duplicates', `${name}: a ciphertext α of entry ${seenAlpha.get(ah)} again`); ok = false; } else seenAlpha.set(ah, idx);
      }
      if (!keys[b.style] || !(await verifyAuthorisation(keys[b.style], T, auth))) throw new Error('its authorisation is not a blind signature of the workplace\'s issuer key');
      if (!verifyBallot(manifest, mh, b)) throw new Error('a range proof does not verify');
      if (ok) valid[b.style].push(ballotCiphertexts(b));
    } catch (e) {
      fail('entries', `${name}: ${e.message.replace(/^eballot: /, '')}`);
    }
    if (out.entries % 8 === 0 || out.entries === total) {
      onProgress(out.entries, total);
      await new Promise((r) => setTimeout(r, 0)); // let the page paint
    }
  }
  if (total === 0) onProgress(0, 0);
  if (!end) fail('entries', 'the export has no end line: it is incomplete');
  else {
    if (end.entries !== out.entries) fail('entries', `the end line counts ${end.entries} entries, the file has ${out.entries}`);
    if (end.root !== toHex(tree.root())) fail('checkpoints', 'the end line\'s root is not the Merkle root of the entries');
    if (JSON.stringify(end.style_counts) !== JSON.stringify(styleCounts)) fail('counts', `the end line counts ${JSON.stringify(end.style_counts)} ballots per workplace, the entries ${JSON.stringify(styleCounts)}`);
  }
  if (last !== tree.size) fail('checkpoints', `no signed checkpoint covers all ${tree.size} entries`);
  if (cps === 0) fail('checkpoints', 'no checkpoint');

  // Ballots ≤ authorisations issued ≤ entitled, per workplace.
  manifest.styles.forEach((st, i) => {
    const iss = input.issued ? input.issued[i] : undefined;
    if (iss !== undefined && styleCounts[i] > iss) fail('counts', `workplace ${st.id}: ${styleCounts[i]} ballots, only ${iss} authorisations issued`);
    if (iss !== undefined && iss > st.entitled) fail('counts', `workplace ${st.id}: ${iss} authorisations issued, only ${st.entitled} entitled`);
    if (styleCounts[i] > st.entitled) fail('counts', `workplace ${st.id}: ${styleCounts[i]} ballots, only ${st.entitled} entitled`);
  });
  if (input.issued && input.issued.length !== manifest.styles.length) fail('counts', 'the issued counts do not list every workplace');

  // Homomorphic sums of the valid ballots, at the positions the trustees
  // decrypt (workplaces with a ballot, then questions, then options).
  const positions = [];
  const sums = [];
  valid.forEach((bs, s) => {
    if (bs.length === 0) return;
    bs[0].forEach((q, qi) => q.forEach((_, oi) => {
      const ct = addCiphertexts(bs.map((b) => b[qi][oi]));
      if (ct.alpha.is0()) fail('sums', `workplace ${manifest.styles[s].id}, question ${qi + 1}, option ${oi + 1}: the summed α is the identity`);
      positions.push([s, qi, oi]);
      sums.push(ct);
    }));
  });
  out.counts = { ballots: valid.map((b) => b.length), styleCounts };

  // Partial decryptions and the signed result.
  if (!input.result) {
    checks.partials.ok = null;
    checks.result.ok = null;
    return out;
  }
  let pub;
  try { pub = parsePublicKey(manifest.trustees); } catch (e) { fail('partials', `the manifest's trustees' key: ${e.message}`); return out; }
  const alphas = sums.map((c) => c.alpha);
  const good = [];
  for (const [i, pj] of (input.partials ?? []).entries()) {
    let p;
    try {
      p = decodePartial(pj);
      if (alphas.length === 0 && p.D.length === 0) { good.push(p); continue; }
      verifyPartial(pub, mh, alphas, p);
      if (good.some((g) => g.trustee === p.trustee)) throw new Error('a second partial from the same trustee');
      good.push(p);
    } catch (e) {
      fail('partials', `partial decryption ${i + 1}${p ? ` (trustee ${p.trustee})` : ''}: ${e.message.replace(/^eballot: /, '')}`);
    }
  }
  if (good.length < pub.threshold) fail('partials', `${good.length} valid partial decryptions, ${pub.threshold} needed`);

  let rep;
  try {
    const key = input.scrutineerKey ?? manifest.texts.scrutineer_key;
    if (!key) throw new Error('the manifest binds no scrutineer key');
    const text = openNote(utf8(input.result.report + input.result.signature), key);
    rep = parseStrictJSON(text);
  } catch (e) {
    fail('result', `the signature of the result does not verify under the scrutineer key in the manifest: ${e.message.replace(/^eballot: /, '')}`);
    return out;
  }
  if (rep.election_id !== manifest.election_id) fail('result', `the result is of election "${rep.election_id}"`);
  if (rep.manifest_hash !== toHex(mh)) fail('result', 'the result is for another manifest');
  if (rep.verification?.root !== toHex(tree.root())) fail('result', 'the result was verified on a ledger with another root');
  if (good.length < pub.threshold || !checks.partials.ok) return out;
  let xa;
  try { xa = alphas.length ? combinePartials(pub, mh, alphas, good.slice(0, pub.threshold)) : []; } catch (e) { fail('result', `combine: ${e.message}`); return out; }
  const decrypted = positions.map(([s], i) => decryptCount(sums[i].beta, xa[i], valid[s].length));
  const styles = rep.result?.styles ?? [];
  manifest.styles.forEach((st, s) => {
    const r = styles[s];
    if (!r || r.id !== st.id) { fail('result', `the result has no line for workplace ${st.id}`); return; }
    if (r.votes_cast !== valid[s].length) fail('result', `${st.name}: the result says ${r.votes_cast} votes cast, the ledger has ${valid[s].length} valid ballots`);
    manifest.questions.forEach((q, qi) => q.options.forEach((opt, oi) => {
      const k = positions.findIndex(([a, b, c]) => a === s && b === qi && c === oi);
      const n = k < 0 ? 0 : decrypted[k];
      const claimed = r.questions?.[qi]?.options?.[oi]?.count;
      if (n < 0) fail('result', `${st.name}, ${q.id} ${opt.label}: the total does not decrypt to a count`);
      else if (claimed !== n) fail('result', `${st.name}, question "${q.id}", ${opt.label}: the result says ${claimed}, the ledger decrypts to ${n}`);
    }));
  });
  return out;
}
