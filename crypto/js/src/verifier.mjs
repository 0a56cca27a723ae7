// Whole-election verification in the browser (docs/protocol.md §8), the
// twin of Go's crypto/report.VerifyElection (crypto/verify with the checks
// of the partial decryptions and the signed result): the same named checks
// (src/checks.mjs), in the same order, with the same rules for what stops
// a verification and what is left out of the count; with the paper section
// of a hybrid ballot (§10: its batches checked by paper.mjs, the twin of
// crypto/paper, the result per channel). Its own bundle
// (dist/eballot-verifier.min.js), loaded only on the verifier page.
import { sha256 } from '@noble/hashes/sha2.js';
import { equalBytes, fromHex, toHex, utf8 } from './bytes.mjs';
import { parseStrictJSON } from './canonical.mjs';
import { CHECKS, GROUPS, LIMITS, CheckError } from './checks.mjs';
import { ExportReader, hasPaper } from './exportreader.mjs';
import { parseManifest } from './manifest.mjs';
import { checkEntries, ciphertextsOf, contextOf, decodeSum } from './entries.mjs';
import { importIssuerKey } from './blind.mjs';
import { leafHash, nodeHash } from './merkle.mjs';
import { parseCheckpoint, parseCloseTime, checkpointOrigin } from './receipt.mjs';
import { openNote, parseVerifierKey } from './note.mjs';
import { ZERO, decodeElement } from './group.mjs';
import { parsePublicKey, decodePartial, verifyPartialProofs, combinePartials, checkCount, decryptCount, decryptPair, trusteesConsistent } from './tally.mjs';
import { COMPACT_BASE, sumWidth } from './ballot.mjs';

// The online counts [option 0, option 1] a report claims for question qi of
// style s (its online channel when it gives channels), or null.
function claimedOnline(result, s, qi) {
  const st = result?.styles?.[s];
  const src = Array.isArray(st?.channels) ? st.channels.find((c) => c.channel === 'online') : st;
  const os = src?.questions?.[qi]?.options;
  return Array.isArray(os) && os.length === 2 ? [os[0]?.count, os[1]?.count] : null;
}
import { parseReport, computeResult, compareResults, DOCUMENT, STATEMENTS, MAX_REPORT } from './result.mjs';
import { PaperCounter } from './paper.mjs';
import { workerPool } from './pool.mjs';

export { CHECKS, GROUPS, LIMITS, PaperCounter };
// The batch verification of proofs and its multi-scalar multiplication
// (tested and benchmarked on their own).
export { batchVerifyBallots, batchVerifyRanges, msm } from './batch.mjs';
export { decodeRankedBallot, rankedRanges } from './ranked.mjs';
export { verifyRange } from './rangeproof.mjs';
export { G } from './group.mjs';
// The STV count (protocol §9.7), the twin of Go's crypto/stv.
export { countSTV, lotFromSeed, ERS97, MEEK } from './stv.mjs';
// Re-running a published ranked count (protocol §9.5–§9.7): the ballots, every shuffle, the decryptions, the count.
export {
  recountRanked, compareCounts, parseRankedContest, decodeMixDecryption, decodeRanking, packing, verifyContestBallots, mixInput,
  mixStatement, verifyMixes, MIX_LABEL,
} from './rankedcount.mjs';
export { parseList, verifyShuffle, decodeShuffleProof } from './shuffle.mjs';
/** A group element from lowercase hex (identity allowed), e.g. a decrypted point. */
export const elementFromHex = (h) => decodeElement(fromHex(h, 32), true);

const MAX_FAILURES = 100000;
const MAX_COUNTS_DOC = 1 << 20;
const BATCH = 256;

const detail = (e) => String(e?.message ?? e).replace(/^eballot: /, '');
const EMPTY_ROOT = sha256(new Uint8Array(0));

/**
 * The text of a failure or limit: messages[check] with each {name}
 * replaced by its parameter; the name and parameters when the catalogue
 * lacks it.
 */
export function formatFailure(f, messages = {}) {
  const code = f.check ?? f.name ?? f.code;
  const tpl = messages[code];
  if (typeof tpl !== 'string') return `${code} ${JSON.stringify(f.params)}`;
  const params = { ...f.params };
  // A place in the result: [kind, value] pairs, each in the page's words
  // (messages["where.<kind>"], e.g. 'question "{v}"').
  if (Array.isArray(params.where)) {
    params.where = params.where.map(([k, v]) => (messages[`where.${k}`] ?? '{v}').replace('{v}', v)).join(', ');
  }
  return tpl.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
}

/** Where a member of the result is, as [kind, value] pairs (formatFailure). */
function whereOf(path, manifest, got) {
  const out = [];
  let q = null;
  for (const p of path.split('.')) {
    const m = /^(\w+)(?:\[(\d+)\])?$/.exec(p);
    const [key, i] = [m[1], m[2] === undefined ? -1 : Number(m[2])];
    if (key === 'styles' && i >= 0) out.push(['workplace', manifest.styles[i]?.name ?? `#${i + 1}`]);
    else if (key === 'aggregate') out.push(['workplace', got.aggregate.name]);
    else if (key === 'questions' && i >= 0) { q = manifest.questions[i]; out.push(['question', q?.id ?? `#${i + 1}`]); }
    else if (key === 'options' && i >= 0) out.push(['option', q?.options[i]?.label ?? `#${i + 1}`]);
    else if (key !== 'count') out.push(['field', i >= 0 ? p : key]);
  }
  return out;
}

/** Incremental RFC 6962 tree: the root of the leaves added so far. */
class Tree {
  constructor() { this.stack = []; this.size = 0; }
  add(leaf) {
    let h = leaf;
    let n = this.size;
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

/** Strict decoding of the service's published counts (verify.ParsePublishedCounts). */
function parsePublishedCounts(text, manifest) {
  if (utf8(text).length > MAX_COUNTS_DOC) throw new Error('counts document too large');
  const j = parseStrictJSON(text);
  const exact = (o, keys) => o !== null && typeof o === 'object' && !Array.isArray(o) && Object.keys(o).length === keys.length && keys.every((k) => Object.hasOwn(o, k));
  if (!exact(j, ['election_id', 'styles']) || typeof j.election_id !== 'string' || !(j.styles === null || Array.isArray(j.styles))) throw new Error('decode counts: not {"election_id","styles"}');
  const styles = j.styles ?? [];
  if (styles.length > 1024) throw new Error('decode counts: too many styles');
  for (const s of styles) {
    if (!exact(s, ['style', 'entitled', 'issued', 'replaced', 'postal']) || typeof s.style !== 'string' ||
      !['entitled', 'issued', 'replaced', 'postal'].every((k) => Number.isSafeInteger(s[k]))) throw new Error('decode counts: a style is not {"style","entitled","issued","replaced","postal"}');
    if (s.entitled < 0 || s.issued < 0 || s.replaced < 0 || s.postal < 0 || s.replaced > s.issued) throw new Error(`decode counts: style "${s.style}": counts must be ≥ 0 with replaced ≤ issued`);
  }
  if (j.election_id !== manifest.election_id) throw new Error(`the published counts are for election "${j.election_id}", not "${manifest.election_id}"`);
  if (styles.length !== manifest.styles.length) throw new Error(`the published counts list ${styles.length} ballot styles, the manifest ${manifest.styles.length}`);
  styles.forEach((s, i) => {
    const m = manifest.styles[i];
    if (s.style !== m.id || s.entitled !== m.entitled) throw new Error(`the published counts' style ${i} is "${s.style}" with ${s.entitled} entitled, the manifest's "${m.id}" with ${m.entitled}`);
  });
  return styles.map((s) => s.issued);
}

/**
 * Runs checkEntries on batches of entries: in workers.n Web Workers started
 * from workers.url (the worker bundle) when given and the platform has
 * them, else in the page (src/pool.mjs). run(entries) returns a promise of
 * checkEntries' result; parallel is the number of workers (0: in the
 * page); stats counts the batches checked in workers and in the page.
 */
function entryRunner(ctx, manifestBytes, workers) {
  const p = workerPool(workers, { manifest: manifestBytes }, (entries) => checkEntries(ctx, entries));
  return {
    parallel: p.parallel,
    stats: p.stats,
    run: (entries) => p.run(entries, { entries: entries.map(({ index, style, bytes }) => ({ index, style, bytes })) }),
    close: p.close,
  };
}

/** The board's {"partials":[…]} document (report.ParsePartials). */
function parsePartialsDoc(text, fail) {
  let j;
  try {
    if (utf8(text).length > MAX_REPORT) throw new Error('the partial decryptions document is too large');
    j = parseStrictJSON(text);
    if (j === null || typeof j !== 'object' || Array.isArray(j) || Object.keys(j).length !== 1 || !Object.hasOwn(j, 'partials') ||
      !(j.partials === null || Array.isArray(j.partials))) throw new Error('not {"partials":[…]}');
  } catch (e) {
    fail('partial.decode', 'partial', -1, { n: 0, detail: detail(e) });
    return [];
  }
  const out = [];
  (j.partials ?? []).forEach((p, i) => {
    try { out.push(decodePartial(p)); } catch (e) { fail('partial.decode', 'partial', i, { n: i + 1, detail: detail(e) }); }
  });
  return out;
}

/**
 * Verifies an election. input = {
 *   export: Uint8Array|string  the ledger export (docs/export-format.md);
 *   issued?: number[]          authorisations issued per style, or
 *   counts?: string            the service's published counts document;
 *   report?, signature?: string  the signed result (report.json, .sig);
 *   partials?: string          the board's {"partials":[…]} document;
 *   key?: string               the scrutineer's key from outside the export;
 *   expected?: {electionId?, manifestHash?: hex, final?: {size, root: hex}};
 *   workers?: {url, n}         check the entries in n Web Workers started
 *                              from url (dist/eballot-verify-worker.min.js)
 * }. onProgress(done, total) is called as entries are checked.
 *
 * Returns {failures: [{check, item, index, params}], limits: [{name,
 * params}], groups: {group: {ok, failures}}, failed: [check…], stopped,
 * entries, tally, parallel}: ok is null for a group not checked (e.g. no
 * result published); tally is the decrypted count per workplace ballot, when
 * the partial decryptions allowed it; parallel = {workers, inWorkers,
 * inPage}, the workers started and the batches of entries checked in them
 * and in the page. Never throws on bad data.
 */
export async function verifyElection(input, onProgress = () => {}) {
  const out = { failures: [], limits: [], stopped: false, entries: 0, tally: null };
  const fail = (check, item, index, params = {}) => {
    if (!(check in CHECKS)) throw new Error(`unknown check ${check}`);
    if (out.failures.length < MAX_FAILURES) out.failures.push({ check, item, index, params });
  };
  const limit = (name, params = {}) => out.limits.push({ name, params });
  try {
    await ledger(input, out, fail, limit, onProgress);
  } finally {
    const groups = Object.fromEntries(GROUPS.map((g) => [g, { ok: true, failures: [] }]));
    for (const f of out.failures) {
      groups[CHECKS[f.check]].ok = false;
      groups[CHECKS[f.check]].failures.push(f);
    }
    if (out.stopped || !input.report) {
      for (const g of ['partials', 'result']) if (groups[g].ok) groups[g].ok = null;
    }
    if (!out.paper && groups.paper.ok) groups.paper.ok = null; // no paper section
    out.groups = groups;
    out.failed = Object.keys(CHECKS).filter((c) => out.failures.some((f) => f.check === c));
  }
  return out;
}

async function ledger(input, out, fail, limit, onProgress) {
  const bytes = typeof input.export === 'string' ? utf8(input.export) : input.export;
  const x = input.expected ?? {};
  let rd;
  try {
    rd = new ExportReader(bytes);
  } catch (e) {
    if (!(e instanceof CheckError)) throw e;
    fail(e.check, 'file', e.params.line, e.params);
    out.stopped = true;
    return;
  }
  const h = rd.header;
  if (x.electionId && x.electionId !== h.electionId) fail('manifest.expected', 'header', -1, { got: h.electionId, want: x.electionId });
  if (x.manifestHash && x.manifestHash !== toHex(h.manifestHash)) fail('manifest.expected', 'manifest', -1, { got: toHex(h.manifestHash), want: x.manifestHash });

  // The manifest (verify.checkManifest): any failure but the header's stops.
  const mh = sha256(rd.manifest);
  if (!equalBytes(mh, h.manifestHash)) {
    fail('manifest.hash', 'manifest', -1, { hash: toHex(mh), want: toHex(h.manifestHash) });
    out.stopped = true;
    return;
  }
  let manifest;
  const keys = [];
  try {
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(rd.manifest);
    const p = await parseManifest(text);
    if (p.canonical !== text) throw new Error('not in canonical JSON form');
    manifest = p.manifest;
    // Ranked (STV) questions have version-2 ballots (protocol §4.2, §9),
    // which this verifier does not read yet: refuse by name, never miscount.
    const rq = manifest.questions.find((q) => q.method === 'ranked');
    if (rq) throw new Error(`question ${rq.id} is ranked (STV): ballot version 2 is not supported by this verifier; use scrutineer verify`);
    for (const st of manifest.styles) keys.push(await importIssuerKey(st.issuer_key));
  } catch (e) {
    fail('manifest.valid', 'manifest', -1, { detail: detail(e) });
    out.stopped = true;
    return;
  }
  let pub;
  try {
    pub = parsePublicKey(manifest.trustees);
    trusteesConsistent(pub);
  } catch (e) {
    fail('manifest.trustees', 'manifest', -1, { detail: detail(e) });
    out.stopped = true;
    return;
  }
  if (manifest.election_id !== h.electionId) fail('header.manifest', 'header', -1, { field: 'election_id' });
  if (manifest.log_key !== h.logKey) fail('header.manifest', 'header', -1, { field: 'log_key' });
  const logKey = parseVerifierKey(manifest.log_key);
  const origin = checkpointOrigin(h.electionId);

  // Entries and checkpoints, in file order (verify.batch): the tree and the
  // checkpoints at once, the entries' checks by batches.
  const tree = new Tree();
  const styleCounts = manifest.styles.map(() => 0);
  const valid = manifest.styles.map(() => 0);
  const width = manifest.questions.reduce((n, q) => n + sumWidth(q), 0);
  const sums = manifest.styles.map(() => null); // per style: [{alpha, beta}] flat over (question, option); a compact question: one
  const seenT = new Map();
  const seenAlpha = new Map();
  let cps = 0;
  let lastCP = null;
  let closeCP = null;
  let closedAt = ''; // the actual close the close states, within the window (verify.Result.ClosedAt)
  let closeLineNote = ''; // the close line's note as read (report.checker.ledger compares it)
  let pending = [];
  const total = h.treeSize;

  const checkpoint = (c, isClose) => {
    const at = { size: c.size };
    const item = isClose ? 'close' : 'checkpoint';
    if (!isClose) { cps++; lastCP = c; }
    let text;
    try { text = openNote(c.note, logKey); } catch (e) { fail('checkpoint.signature', item, c.size, { ...at, detail: detail(e) }); return; }
    let cp;
    try { cp = parseCheckpoint(text); } catch (e) { fail('checkpoint.text', item, c.size, { ...at, detail: detail(e) }); return; }
    if (isClose && !cp.closed) fail('checkpoint.text', item, c.size, { ...at, detail: 'the close does not say "closed"' });
    if (!isClose && cp.closed) fail('checkpoint.text', item, c.size, { ...at, detail: 'a checkpoint that is not the close says "closed"' });
    if (cp.origin !== origin) fail('checkpoint.origin', item, c.size, { ...at, origin: cp.origin });
    if (cp.size !== c.size || !equalBytes(cp.root, c.root)) fail('checkpoint.line', item, c.size, at);
    if (!equalBytes(cp.root, tree.root())) fail('checkpoint.root', item, c.size, { ...at, entries: tree.size });
    if (isClose && cp.closed) {
      closeCP = cp;
      // The close's time (protocol version 4; verify.closeTime): voting
      // cannot have stopped outside the manifest's opens_at and closes_at.
      if (cp.closedAt !== '') {
        const t = parseCloseTime(cp.closedAt).getTime();
        if (t < Date.parse(manifest.opens_at) || t > Date.parse(manifest.closes_at)) {
          fail('checkpoint.text', item, c.size, { ...at, detail: `the close says voting stopped at ${cp.closedAt}, outside the ballot's opens_at ${manifest.opens_at} and closes_at ${manifest.closes_at}` });
        } else closedAt = cp.closedAt;
      }
    }
  };

  // The entries' own checks, by batches, in the page or in Web Workers
  // (src/entries.mjs); their results are taken in file order.
  const ctx = contextOf(manifest, mh, keys);
  const runner = entryRunner(ctx, rd.manifest, input.workers);
  const depth = runner.parallel ? 2 * runner.parallel : 1;
  const queue = [];
  const merge = async ({ entries, job }) => {
    const { results, sums: bs } = await job;
    bs.forEach((s, st) => {
      if (!s) return;
      sums[st] ??= Array.from({ length: width }, () => ({ alpha: ZERO, beta: ZERO }));
      s.forEach((c, k) => {
        const d = decodeSum(c);
        sums[st][k] = { alpha: sums[st][k].alpha.add(d.alpha), beta: sums[st][k].beta.add(d.beta) };
      });
    });
    results.forEach((r, i) => {
      const en = entries[i];
      const at = { index: en.index, tracker: r.code || '?' };
      if (en.style < styleCounts.length) styleCounts[en.style]++;
      for (const [check, p] of r.errs) fail(check, 'entry', en.index, { ...at, ...p });
      let dup = false;
      if (r.T) {
        const th = toHex(r.T);
        if (seenT.has(th)) { fail('entry.duplicate_tracker', 'entry', en.index, { ...at, first: seenT.get(th) }); dup = true; } else seenT.set(th, en.index);
      }
      for (const ah of r.alphas) {
        if (seenAlpha.has(ah)) { fail('entry.duplicate_alpha', 'entry', en.index, { ...at, first: seenAlpha.get(ah) }); dup = true; } else seenAlpha.set(ah, en.index);
      }
      if (r.ok && dup) {
        // A copy is not counted: out of the batch's sum again.
        ciphertextsOf(ctx, en.bytes).forEach((c, k) => {
          sums[r.style][k] = { alpha: sums[r.style][k].alpha.subtract(c.alpha), beta: sums[r.style][k].beta.subtract(c.beta) };
        });
      } else if (r.ok) valid[r.style]++;
      out.entries++;
    });
    onProgress(out.entries, total);
    await new Promise((res) => setTimeout(res, 0)); // let the page paint
  };
  const flush = async () => {
    if (pending.length) queue.push({ entries: pending, job: runner.run(pending) });
    pending = [];
    while (queue.length >= depth) await merge(queue.shift());
  };
  const drain = async () => {
    await flush();
    while (queue.length) await merge(queue.shift());
  };

  // The paper section (version 3, §10; verify.paperLine).
  let paper = null;
  const paperFail = (fs) => fs.forEach((f) => {
    const p = { seq: f.seq, workplace: f.style >= 0 ? manifest.styles[f.style]?.id ?? String(f.style) : '', detail: f.detail };
    if (f.style >= 0) fail(f.check, 'counts', f.style, p);
    else if (f.seq >= 0) fail(f.check, 'batch', f.seq, p);
    else fail(f.check, 'paper_close', -1, p);
  });

  let end = null;
  let item;
  try {
    for (;;) {
      try {
        item = rd.next();
      } catch (e) {
        if (!(e instanceof CheckError)) throw e;
        await drain();
        fail(e.check, 'file', e.params.line, e.params);
        out.stopped = true;
        return;
      }
      if (item === null) break;
      if (item.kind === 'entry') {
        tree.add(leafHash(item.bytes));
        pending.push(item);
        if (pending.length >= BATCH) await flush();
      } else if (item.kind === 'checkpoint') checkpoint(item, false);
      else if (item.kind === 'close') {
        closeLineNote = item.note;
        checkpoint(item, true);
      } else if (item.kind === 'batch' || item.kind === 'paper_close') {
        paper ??= new PaperCounter(manifest);
        out.paper = true;
        paperFail(item.kind === 'batch' ? paper.batch(item.bytes, item.note) : paper.close(item.bytes, item.note));
      } else end = item;
    }
    await drain();
  } finally {
    runner.close();
    out.parallel = runner.stats;
  }
  if (total === 0) onProgress(0, 0);

  // The end line (verify.end).
  if (!equalBytes(end.root, tree.root())) fail('end.root', 'end', -1, {});
  if (end.styleCounts === null || end.styleCounts.length !== styleCounts.length || end.styleCounts.some((n, i) => n !== styleCounts[i])) {
    fail('end.style_counts', 'end', -1, { claimed: JSON.stringify(end.styleCounts ?? []), counted: JSON.stringify(styleCounts) });
  }
  if (!lastCP || lastCP.size !== tree.size) fail('checkpoint.final', 'end', -1, { entries: tree.size });

  // Completeness (verify.final).
  if (x.final) {
    let size = -1;
    let root = new Uint8Array(32);
    if (!h.closed) {
      fail('final.expected', 'close', -1, { size: 'none', root: 'none', want_size: x.final.size, want_root: x.final.root });
    } else {
      if (closeCP) [size, root] = [closeCP.size, closeCP.root];
      else if (h.version === 1 && lastCP) [size, root] = [lastCP.size, lastCP.root];
      if (size !== x.final.size || toHex(root) !== x.final.root) fail('final.expected', 'close', size, { size, root: toHex(root), want_size: x.final.size, want_root: x.final.root });
    }
  } else if (!h.closed) limit('limit.open', { entries: tree.size });
  else if (h.version === 1) limit('limit.unsigned_close', {});
  else limit('limit.final', { entries: tree.size });

  // Ballots ≤ authorisations issued ≤ entitled (verify.counts).
  let issued = input.issued ?? null;
  if (input.counts != null) {
    try {
      const iss = parsePublishedCounts(input.counts, manifest);
      issued ??= iss;
    } catch (e) {
      fail('counts.published', 'counts', -1, { detail: detail(e) });
    }
  }
  if (issued && issued.length !== manifest.styles.length) {
    fail('counts.published', 'counts', -1, { detail: `${issued.length} authorisation counts given for ${manifest.styles.length} styles` });
    issued = null;
  }
  if (!issued) limit('limit.issued', {});
  manifest.styles.forEach((st, i) => {
    const n = styleCounts[i];
    const w = { workplace: st.id };
    if (issued && n > issued[i]) fail('counts.issued', 'counts', i, { ...w, ballots: n, issued: issued[i] });
    if (issued && issued[i] > st.entitled) fail('counts.issued_entitled', 'counts', i, { ...w, issued: issued[i], entitled: st.entitled });
    if (n > st.entitled) fail('counts.entitled', 'counts', i, { ...w, ballots: n, entitled: st.entitled });
  });
  // The paper section's totals against the returns and the register
  // (verify.paperCounts).
  if (paper) {
    const fin = paper.finish();
    paperFail(fin.failures);
    if (!fin.closed) fail('paper_close.chain', 'paper_close', -1, { detail: 'the paper section has no close: the paper count is not complete' });
    else if (paper.closed && paper.closed.styles.length === manifest.styles.length && !(issued && issued.length !== manifest.styles.length)) {
      const rs = paper.closed.styles;
      manifest.styles.forEach((st, i) => {
        const votes = styleCounts[i] + paper.totals(i, 'postal').papers + paper.totals(i, 'workplace').papers;
        let marked = rs[i].postal + rs[i].workplace;
        if (issued) {
          marked += issued[i];
          if (votes > marked) fail('counts.paper_marked', 'counts', i, { workplace: st.id, votes, marked });
        }
        if (marked > st.entitled || votes > st.entitled) fail('counts.paper_entitled', 'counts', i, { workplace: st.id, marked, entitled: st.entitled });
      });
    }
  } else if (hasPaper(h.version)) {
    // Versions 3 and 5 say the file has a paper section (at least its
    // close): none is a paper count cut from the file (verify.paperCounts).
    fail('paper_close.chain', 'paper_close', -1, { detail: `the export is of version ${h.version} but has no paper section: the paper count is not complete` });
  }
  if (!x.manifestHash) limit('limit.manifest_hash', {});

  // The signed result (report.VerifyElection).
  if (input.report == null) {
    limit('limit.result', {});
    return;
  }
  const ledgerOK = out.failures.length === 0;
  const R = (check, params = {}) => fail(check, 'result', -1, params);
  const bound = Object.hasOwn(manifest.texts, 'scrutineer_key') ? manifest.texts.scrutineer_key : '';
  const key = input.key ? input.key : bound;
  if (!key) { R('result.key', { detail: 'the manifest binds no scrutineer key (texts.scrutineer_key), and none was given' }); return; }
  if (bound && input.key && input.key.trim() !== bound) { R('result.key', { detail: `the manifest binds the scrutineer key ${bound}, not the one given` }); return; }
  let vkey;
  try { vkey = parseVerifierKey(key.trim()); } catch (e) { R('result.key', { detail: detail(e) }); return; }
  let text;
  try {
    const js = utf8(input.report);
    const sig = utf8(input.signature ?? '');
    if (js.length > MAX_REPORT || sig.length > 64 << 10) throw new Error('too large');
    if (js.length === 0 || js[js.length - 1] !== 10) throw new Error('the report does not end with a newline');
    const all = new Uint8Array(js.length + sig.length);
    all.set(js);
    all.set(sig, js.length);
    text = openNote(all, vkey);
  } catch (e) { R('result.signature', { detail: detail(e) }); return; }
  let rep;
  try { rep = parseReport(text); } catch (e) { R('result.decode', { detail: detail(e) }); return; }
  out.limits = out.limits.filter((l) => !['limit.final', 'limit.unsigned_close', 'limit.open'].includes(l.name) && !(input.key && l.name === 'limit.manifest_hash'));
  const partials = parsePartialsDoc(input.partials ?? '{"partials":[]}', fail);

  // report.checker.run, in order.
  if (rep.signed_by !== vkey.name) R('result.signer', { signed_by: rep.signed_by, key: vkey.name });
  if (rep.document !== DOCUMENT) R('result.statements', { detail: 'the document is not the scrutineer\'s result and report' });
  rep.statements.forEach((s, i) => {
    if (s.clause !== STATEMENTS[i][0] || s.text !== STATEMENTS[i][1]) R('result.statements', { detail: `statement ${i + 1} is not the text of ${STATEMENTS[i][0]}` });
    else if (s.satisfied !== ((s.particulars ?? []).length === 0)) R('result.statements', { detail: `${s.clause}: satisfied is ${s.satisfied} with ${(s.particulars ?? []).length} particulars` });
  });
  const ver = rep.verification;
  if (((ver.failures ?? []).length > 0 || ver.more_failures > 0) && rep.statements[0].satisfied) R('result.statements', { detail: 'the verification found failures, yet s.231B(1)(a) is satisfied' });
  for (const id of [rep.election_id, rep.result.election_id]) if (id !== h.electionId) { R('result.election', { election: id }); break; }
  for (const m of [rep.manifest_hash, rep.result.manifest_hash]) if (m !== toHex(mh)) { R('result.manifest', { hash: m }); break; }
  if (!h.closed) R('result.final', {});
  if (ver.final_checkpoint !== undefined && ver.final_checkpoint !== closeLineNote) R('result.final', {});
  if (ver.root !== toHex(tree.root())) R('result.ledger', { detail: `the report verified a ledger with root ${ver.root}` });
  if (ver.entries !== tree.size) R('result.ledger', { detail: `the report verified ${ver.entries} ballots, this ledger holds ${tree.size}` });
  if (ver.checkpoints !== cps) R('result.ledger', { detail: `the report verified ${ver.checkpoints} checkpoints, this ledger has ${cps}` });
  if (JSON.stringify(ver.style_counts) !== JSON.stringify(styleCounts)) R('result.ledger', { detail: 'the ballots per workplace differ' });
  const mine = paper ? { batches: paper.batches, counted: paper.counted, head: paper.prev } : null;
  if (JSON.stringify(ver.paper ?? null) !== JSON.stringify(mine)) R('result.ledger', { detail: 'the report verified another paper section of the ledger' });
  const clean = (ver.failures ?? []).length === 0 && ver.more_failures === 0;
  if (clean !== ledgerOK) R('result.ledger', { detail: `the report's verification found ${(ver.failures ?? []).length + ver.more_failures} failures` });
  if (issued && ver.authorisations_issued !== null && JSON.stringify(ver.authorisations_issued) !== JSON.stringify(issued)) {
    R('result.issued', { claimed: JSON.stringify(ver.authorisations_issued), published: JSON.stringify(issued) });
  }

  // The sums the trustees decrypt (those whose α is not the identity), in
  // position order: styles with a valid ballot, questions, options.
  const positions = [];
  manifest.styles.forEach((_, s) => { if (valid[s]) for (let k = 0; k < width; k++) positions.push([s, k]); });
  const cts = positions.map(([s, k]) => sums[s][k]);
  const alphas = cts.filter((c) => !c.alpha.is0()).map((c) => c.alpha);

  // The partial decryptions (tally.CheckPartials).
  const good = [];
  partials.forEach((p, i) => {
    const P = (check, d) => fail(check, 'partial', i, { n: i + 1, trustee: p.trustee, detail: d });
    if (p.trustee < 1 || p.trustee > pub.X.length) P('partial.trustee', `no trustee ${p.trustee} in the manifest`);
    else if (good.some((g) => g.trustee === p.trustee)) P('partial.trustee', 'second partial from the same trustee');
    else if (!equalBytes(p.manifestHash, mh)) P('partial.manifest', 'made for another manifest');
    else if (p.D.length !== alphas.length) P('partial.count', `has ${p.D.length} decryptions, the tally needs ${alphas.length}`);
    else if (!verifyPartialProofs(pub, mh, alphas, p)) P('partial.proof', 'a DLEQ proof does not verify');
    else good.push(p);
  });
  const needed = alphas.length ? pub.threshold : 0;
  if (good.length < needed) { fail('partials.threshold', 'partial', -1, { valid: good.length, needed }); return; }

  // The trustees the report says were combined (report.checker.trustees).
  const ts = rep.result.trustees ?? [];
  let set = [];
  let problem = '';
  for (const t of ts) {
    const p = good.find((g) => g.trustee === t);
    if (!p) problem = `no valid published partial of trustee ${t}`;
    else if (set.includes(p)) problem = `trustee ${t} is named twice`;
    else set.push(p);
  }
  for (const r of rep.rejected_partials ?? []) if (ts.includes(r.trustee)) problem = `trustee ${r.trustee} is named both as combined and as rejected`;
  if (!problem && ts.length !== needed) problem = `the report names ${ts.length} trustees as combined, the tally combines ${needed}`;
  if (problem) { R('result.trustees', { detail: problem }); set = good.slice(0, needed); }

  // Decrypt and compare (tally.Combine, tally.Compute, report.compare).
  let xa;
  try { xa = needed ? combinePartials(pub, mh, alphas, set) : []; } catch (e) { R('result.counts', { path: '', claimed: '', actual: detail(e) }); return; }
  const max = Math.max(1, ...valid);
  // The question of each flat sum index k (a compact question has one sum).
  const questionOf = manifest.questions.flatMap((q, qi) => Array.from({ length: sumWidth(q) }, (_, oi) => [qi, oi]));
  let j = 0;
  const values = new Map(); // `${style},${question},${option}` → count
  for (let i = 0; i < positions.length; i++) {
    const c = cts[i];
    const [s, k] = positions[i];
    const [qi, oi] = questionOf[k];
    const xAlpha = c.alpha.is0() ? ZERO : xa[j++];
    if (manifest.questions[qi].method === 'compact') {
      // yes + B·no (§7, protocol 7). The report's own online counts are
      // tried first: one multiplication instead of about n additions, and
      // the same answer (yes + no ≤ n < B decodes uniquely).
      const cl = claimedOnline(rep.result, s, qi);
      const ok = cl && cl.every((x) => Number.isSafeInteger(x) && x >= 0) && cl[0] + cl[1] <= valid[s] &&
        checkCount(c.beta, xAlpha, cl[0] + COMPACT_BASE * cl[1]);
      const p = ok ? { yes: cl[0], no: cl[1] } : decryptPair(c.beta, xAlpha, valid[s], COMPACT_BASE);
      if (!p) { R('result.counts', { path: '', claimed: '', actual: 'a count does not decrypt' }); return; }
      values.set(`${s},${qi},0`, p.yes);
      values.set(`${s},${qi},1`, p.no);
      continue;
    }
    const v = decryptCount(c.beta, xAlpha, max);
    if (v < 0) { R('result.counts', { path: '', claimed: '', actual: 'a count does not decrypt' }); return; }
    values.set(`${s},${qi},${oi}`, v);
  }
  const count = (s, qi, oi) => values.get(`${s},${qi},${oi}`) ?? 0;
  // With a paper section: the valid batches per channel and the papers
  // rejected from the close (verify.PaperTotals).
  const rsOK = paper?.closed && paper.closed.styles.length === manifest.styles.length;
  const paperIn = paper ? {
    totals: (s, ch) => paper.totals(s, ch),
    rejected: (s) => (rsOK ? { voted_online: paper.closed.styles[s].voted_online, second_return: paper.closed.styles[s].second_return, late: paper.closed.styles[s].late } : null),
  } : null;
  const got = computeResult(manifest, toHex(mh), count, valid, set.map((p) => p.trustee), paperIn, closedAt);
  compareResults(rep.result, got, (check, p) => R(check, { ...p, where: whereOf(p.path, manifest, got) }));
  // The count of every channel (with a paper section, the online ballots
  // and the valid paper batches together).
  out.tally = manifest.styles.map((st, s) => ({
    id: st.id, name: st.name, ballots: got.styles[s].votes_cast,
    questions: manifest.questions.map((q, qi) => ({ id: q.id, text: q.text, options: q.options.map((o, oi) => ({ id: o.id, label: o.label, count: got.styles[s].questions[qi].options[oi].count })) })),
  }));
}
