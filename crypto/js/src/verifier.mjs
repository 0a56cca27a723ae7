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

/**
 * A failure is {code, params}: the page translates it with its message
 * catalogue (formatFailure), so the bundle carries no English. `detail`
 * params are the technical messages of the lower layers (parsers, proofs).
 */
class Failure extends Error {
  constructor(code, params = {}) { super(code); this.code = code; this.params = params; }
}
const bad = (code, params) => { throw new Failure(code, params); };
const detail = (e) => String(e?.message ?? e).replace(/^eballot: /, '');

/**
 * The text of a failure: messages[code] with each {name} replaced by the
 * parameter; the code and parameters when the catalogue lacks the code.
 */
export function formatFailure(f, messages = {}) {
  const tpl = messages[f.code];
  if (typeof tpl !== 'string') return `${f.code} ${JSON.stringify(f.params)}`;
  return tpl.replace(/\{(\w+)\}/g, (m, k) => (k in f.params ? String(f.params[k]) : m));
}
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
 * {checks: {id: {ok: boolean|null, failures: {code, params}[]}}, counts,
 * entries, tally}: ok null means not applicable (e.g. no result published
 * yet); tally is the decrypted count per workplace ballot, when the trustees'
 * partial decryptions allowed it. Never throws on bad data: every problem is
 * a named failure (formatFailure makes its text).
 */
export async function verifyElection(input, onProgress = () => {}) {
  const checks = Object.fromEntries(CHECKS.map((c) => [c, { ok: true, failures: [] }]));
  const fail = (c, code, params = {}) => {
    checks[c].ok = false;
    if (checks[c].failures.length < MAX_FAILURES) checks[c].failures.push({ code, params });
  };
  // A caught error: its own code, or `code` with the error as detail.
  const failWith = (c, e, code, params = {}) => (e instanceof Failure ? fail(c, e.code, { ...params, ...e.params }) : fail(c, code, { ...params, detail: detail(e) }));
  const out = { checks, entries: 0, counts: null, tally: null };
  const skipFrom = (i) => { for (const c of CHECKS.slice(i)) if (checks[c].ok) checks[c].ok = null; };

  // File structure, header and manifest.
  const lines = input.exportText.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let objs;
  try {
    objs = lines.map((l, i) => {
      try { return parseStrictJSON(l); } catch (e) { return bad('export.json', { line: i + 1, detail: detail(e) }); }
    });
  } catch (e) {
    failWith('manifest', e, 'export.json');
    skipFrom(1);
    return out;
  }
  const [header, mline] = objs;
  if (!header || header.type !== 'header' || header.format !== 'eballot-export' || (header.version !== 1 && header.version !== 2)) {
    fail('manifest', 'export.header');
    skipFrom(1);
    return out;
  }
  if (header.election_id !== input.election) fail('manifest', 'export.election', { election: header.election_id, want: input.election });
  let manifest, mh;
  try {
    if (!mline || mline.type !== 'manifest') bad('manifest.missing');
    const raw = fromBase64(mline.manifest);
    const p = await parseManifest(new TextDecoder('utf-8', { fatal: true }).decode(raw));
    manifest = p.manifest;
    mh = sha256(raw);
    if (!equalBytes(mh, p.hash)) bad('manifest.canonical');
    if (toHex(mh) !== header.manifest_hash) bad('manifest.hash', { hash: toHex(mh), want: header.manifest_hash });
    if (manifest.election_id !== header.election_id) bad('manifest.election');
    if (manifest.log_key !== header.log_key) bad('manifest.log_key');
  } catch (e) {
    failWith('manifest', e, 'manifest.invalid');
    skipFrom(1);
    return out;
  }
  if (!header.closed) fail('manifest', 'export.not_closed');
  const keys = [];
  for (const [i, st] of manifest.styles.entries()) {
    try { keys.push(await importIssuerKey(st.issuer_key)); } catch (e) { fail('manifest', 'manifest.issuer_key', { workplace: st.id, detail: detail(e) }); keys.push(null); }
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
  let closeLine = null;
  for (const o of objs.slice(2)) {
    if (end) { fail('entries', 'entries.after_end'); break; }
    if (o.type === 'checkpoint' || (o.type === 'close' && header.version === 2)) {
      if (o.type === 'close') closeLine = o; else cps++;
      try {
        const c = openCheckpoint(o.note, manifest.log_key);
        if (c.closed !== (o.type === 'close')) bad('checkpoint.closed');
        if (c.origin !== checkpointOrigin(manifest.election_id)) bad('checkpoint.origin', { origin: c.origin });
        if (c.size !== o.size || toHex(c.root) !== o.root) bad('checkpoint.line');
        if (c.size !== tree.size) bad('checkpoint.size', { entries: tree.size });
        if (!equalBytes(c.root, tree.root())) bad('checkpoint.root');
        if (o.type === 'checkpoint') last = c.size;
      } catch (e) {
        failWith('checkpoints', e, 'checkpoint.invalid', { size: o.size });
      }
      continue;
    }
    if (o.type === 'end') { end = o; continue; }
    if (o.type !== 'entry') { fail('entries', 'entries.line_type', { type: String(o.type) }); continue; }
    const idx = o.index;
    let bytes;
    try { bytes = fromBase64(o.entry); } catch { fail('entries', 'entry.base64', { index: idx }); continue; }
    if (idx !== tree.size) fail('entries', 'entry.order', { index: idx, want: tree.size });
    tree.add(leafHash(bytes));
    out.entries++;
    const T = bytes.subarray(0, 32);
    const code = T.length === 32 ? shortCode(T) : '?';
    const at = { index: idx, tracker: code };
    let ok = true;
    try {
      if (bytes.length < 32 + AUTHORISATION_SIZE + 1) bad('entry.short');
      const auth = bytes.subarray(32, 32 + AUTHORISATION_SIZE);
      const bb = bytes.subarray(32 + AUTHORISATION_SIZE);
      if (!equalBytes(tracker(mh, bb), T)) bad('entry.tracker');
      const b = decodeBallot(manifest, mh, bb);
      if (b.style !== o.style) bad('entry.style', { recorded: o.style, style: b.style });
      styleCounts[b.style]++;
      const th = toHex(T);
      if (seenT.has(th)) { fail('duplicates', 'duplicate.tracker', { ...at, first: seenT.get(th) }); ok = false; } else seenT.set(th, idx);
      for (const q of b.questions) for (const s of q.selections) {
        const ah = toHex(s.alpha);
        if (seenAlpha.has(ah)) { fail('duplicates', 'duplicate.alpha', { ...at, first: seenAlpha.get(ah) }); ok = false; } else seenAlpha.set(ah, idx);
      }
      if (!keys[b.style] || !(await verifyAuthorisation(keys[b.style], T, auth))) bad('entry.authorisation');
      if (!verifyBallot(manifest, mh, b)) bad('entry.proof');
      if (ok) valid[b.style].push(ballotCiphertexts(b));
    } catch (e) {
      failWith('entries', e, 'entry.invalid', at);
    }
    if (out.entries % 8 === 0 || out.entries === total) {
      onProgress(out.entries, total);
      await new Promise((r) => setTimeout(r, 0)); // let the page paint
    }
  }
  if (total === 0) onProgress(0, 0);
  if (!end) fail('entries', 'entries.no_end');
  else {
    if (end.entries !== out.entries) fail('entries', 'entries.end_count', { claimed: end.entries, entries: out.entries });
    if (end.root !== toHex(tree.root())) fail('checkpoints', 'checkpoints.end_root');
    if (JSON.stringify(end.style_counts) !== JSON.stringify(styleCounts)) fail('counts', 'counts.end', { claimed: JSON.stringify(end.style_counts), entries: JSON.stringify(styleCounts) });
  }
  if (last !== tree.size) fail('checkpoints', 'checkpoints.uncovered', { entries: tree.size });
  if (header.version === 2 && header.closed && !closeLine) fail('checkpoints', 'checkpoints.no_close');
  if (cps === 0) fail('checkpoints', 'checkpoints.none');

  // Ballots ≤ authorisations issued ≤ entitled, per workplace.
  manifest.styles.forEach((st, i) => {
    const iss = input.issued ? input.issued[i] : undefined;
    if (iss !== undefined && styleCounts[i] > iss) fail('counts', 'counts.over_issued', { workplace: st.id, ballots: styleCounts[i], issued: iss });
    if (iss !== undefined && iss > st.entitled) fail('counts', 'counts.issued_over_entitled', { workplace: st.id, issued: iss, entitled: st.entitled });
    if (styleCounts[i] > st.entitled) fail('counts', 'counts.over_entitled', { workplace: st.id, ballots: styleCounts[i], entitled: st.entitled });
  });
  if (input.issued && input.issued.length !== manifest.styles.length) fail('counts', 'counts.issued_list');

  // Homomorphic sums of the valid ballots, at the positions the trustees
  // decrypt (workplaces with a ballot, then questions, then options).
  // A sum whose α is the identity (nonces that cancel, e.g. two colluding
  // voters) is not decrypted by the trustees: its β is m·G in the clear
  // (docs/protocol.md §7).
  const positions = [];
  const sums = [];
  valid.forEach((bs, s) => {
    if (bs.length === 0) return;
    bs[0].forEach((q, qi) => q.forEach((_, oi) => {
      const ct = addCiphertexts(bs.map((b) => b[qi][oi]));
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
  try { pub = parsePublicKey(manifest.trustees); } catch (e) { fail('partials', 'partials.key', { detail: detail(e) }); return out; }
  const alphas = sums.filter((c) => !c.alpha.is0()).map((c) => c.alpha);
  const good = [];
  for (const [i, pj] of (input.partials ?? []).entries()) {
    let p;
    try {
      p = decodePartial(pj);
      if (alphas.length === 0 && p.D.length === 0) { good.push(p); continue; }
      verifyPartial(pub, mh, alphas, p);
      if (good.some((g) => g.trustee === p.trustee)) bad('partial.again');
      good.push(p);
    } catch (e) {
      if (p) failWith('partials', e, 'partial.trustee_invalid', { n: i + 1, trustee: p.trustee });
      else failWith('partials', e, 'partial.invalid', { n: i + 1 });
    }
  }
  const needed = alphas.length ? pub.threshold : 0;
  if (good.length < needed) fail('partials', 'partials.threshold', { valid: good.length, needed: pub.threshold });

  let rep;
  try {
    const key = input.scrutineerKey ?? manifest.texts.scrutineer_key;
    if (!key) bad('result.no_key');
    const text = openNote(utf8(input.result.report + input.result.signature), key);
    rep = parseStrictJSON(text);
  } catch (e) {
    failWith('result', e, 'result.signature');
    return out;
  }
  if (rep.election_id !== manifest.election_id) fail('result', 'result.election', { election: String(rep.election_id) });
  if (rep.manifest_hash !== toHex(mh)) fail('result', 'result.manifest');
  if (rep.verification?.root !== toHex(tree.root())) fail('result', 'result.root');
  if (good.length < needed || !checks.partials.ok) return out;
  let xa;
  try { xa = alphas.length ? combinePartials(pub, mh, alphas, good.slice(0, needed)) : []; } catch (e) { fail('result', 'result.combine', { detail: detail(e) }); return out; }
  let j = 0;
  const decrypted = positions.map(([s], i) => decryptCount(sums[i].beta, sums[i].alpha.is0() ? sums[i].alpha : xa[j++], valid[s].length));
  const styles = rep.result?.styles ?? [];
  out.tally = manifest.styles.map((st, s) => ({
    id: st.id, name: st.name, ballots: valid[s].length,
    questions: manifest.questions.map((q, qi) => ({
      id: q.id, text: q.text,
      options: q.options.map((opt, oi) => {
        const k = positions.findIndex(([a, b, c]) => a === s && b === qi && c === oi);
        return { id: opt.id, label: opt.label, count: k < 0 ? 0 : decrypted[k] };
      }),
    })),
  }));
  out.tally.forEach((t, s) => {
    const r = styles[s];
    if (!r || r.id !== t.id) { fail('result', 'result.no_line', { workplace: t.id }); return; }
    if (r.votes_cast !== t.ballots) fail('result', 'result.votes_cast', { workplace: t.name, claimed: r.votes_cast, ballots: t.ballots });
    t.questions.forEach((q, qi) => q.options.forEach((opt, oi) => {
      const claimed = r.questions?.[qi]?.options?.[oi]?.count;
      const at = { workplace: t.name, question: q.id, option: opt.label };
      if (opt.count < 0) fail('result', 'result.not_count', at);
      else if (claimed !== opt.count) fail('result', 'result.count', { ...at, claimed: String(claimed), count: opt.count });
    }));
  });
  return out;
}
