// Re-running a published STV count in the browser (docs/protocol.md §9.5,
// §9.6, §9.7; docs/scrutineer-guide.md §9): from the files `scrutineer
// ranked` publishes — the contest file (contest.json) with its ballots,
// every mixer's shuffle (mix-<t>.list and mix-<t>.proof, t = 1, 2, …), the
// trustees' partial decryptions of the last list (decrypt-<j>.bin) and the
// result (result.json) — check every ranked ballot's proofs (a ballot that
// does not prove a valid ranking is set aside, as `scrutineer ranked`
// does), pack the valid ones into the mix input (§9.5), check every
// mixer's proof of shuffle against the list before it, check every
// decryption proof, decrypt and decode each mixed ballot, draw the lot from
// the manifest hash and the final list, count again with src/stv.mjs and
// compare with the published count stage by stage, naming every
// difference: which ballot, which mixer, which trustee, row and column.
import { sha256 } from '@noble/hashes/sha2.js';
import { Reader, concat, fromHex, toHex, u16, u32 } from './bytes.mjs';
import { parseStrictJSON } from './canonical.mjs';
import { G, ZERO, encodeElement, mulPublic } from './group.mjs';
import { decodePartial, parsePublicKey, verifyPartial, lagrangeAtZero } from './tally.mjs';
import { decodeShuffleProof, listOf, parseList, verifyShuffle } from './shuffle.mjs';
import { decodeRankedBallot, rankedRanges, verifyRankedBallot } from './ranked.mjs';
import { batchVerifyRanges } from './batch.mjs';
import { countSTV, lotFromSeed, ERS97, MEEK } from './stv.mjs';
import { workerPool } from './pool.mjs';

export const PACK_BOUND = 1 << 20;
/** The generator label of the mix (§9.5, crypto/ranked MixLabel). */
export const MIX_LABEL = 'eballot-v1/mix';
/** The most shuffles of a cascade (crypto/shuffle MaxRounds). */
export const MAX_ROUNDS = 64;
const MAX_ALPHAS = 1 << 14;

const fail = (msg) => new Error(`eballot: ${msg}`);

const exactKeys = (o, required, optional, what) => {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw fail(`${what} must be an object`);
  for (const k of Object.keys(o)) if (!required.includes(k) && !optional.includes(k)) throw fail(`${what}: unknown field ${k}`);
  for (const k of required) if (!Object.hasOwn(o, k)) throw fail(`${what}: missing field ${k}`);
};
const isInt = (x, lo, hi) => Number.isInteger(x) && x >= lo && x <= hi;

/**
 * Strictly parses contest.json (scrutineer ranked, version 1): the same
 * fields and bounds as the scrutineer's reader. The ballots are kept as
 * their hex (ballotsHex), decoded by recountRanked.
 */
export function parseRankedContest(text) {
  const j = typeof text === 'string' ? parseStrictJSON(text) : text;
  exactKeys(j, ['version', 'manifest_hash', 'contest', 'styles', 'candidates', 'min_ranked', 'max_ranked', 'seats', 'rule', 'trustees', 'ballots'],
    ['withdrawn', 'independent_person'], 'contest file');
  if (j.version !== 1) throw fail(`contest file version ${j.version}, this verifier reads 1`);
  const manifestHash = fromHex(j.manifest_hash, 32);
  if (!isInt(j.contest, 0, 0xffff)) throw fail('contest: out of range');
  if (j.rule !== ERS97 && j.rule !== MEEK) throw fail(`rule ${JSON.stringify(j.rule)}: want ers97 or meek`);
  if (!Array.isArray(j.candidates) || !j.candidates.every((c) => typeof c === 'string')) throw fail('candidates: want names');
  const n = j.candidates.length;
  if (!isInt(n, 2, 64)) throw fail(`${n} candidates (need 2 to 64)`);
  if (!isInt(j.styles, 1, 1 << 16)) throw fail('styles');
  if (!isInt(j.min_ranked, 0, n) || !isInt(j.max_ranked, 1, n) || j.min_ranked > j.max_ranked) throw fail('preference bounds');
  if (!isInt(j.seats, 1, n - 1)) throw fail(`seats ${j.seats}: want 1 to ${n - 1}`);
  const withdrawn = j.withdrawn ?? [];
  if (!Array.isArray(withdrawn)) throw fail('withdrawn');
  exactKeys(j.trustees, ['threshold', 'election_key', 'public_keys'], [], 'trustees');
  const pub = parsePublicKey(j.trustees);
  let ip = null;
  if (j.independent_person != null) {
    exactKeys(j.independent_person, ['name'], ['trustee'], 'independent_person');
    const { name, trustee = 0 } = j.independent_person;
    if (typeof name !== 'string' || name.trim() === '' || new TextEncoder().encode(name).length > 200) throw fail('independent_person.name: want 1 to 200 bytes');
    if (!isInt(trustee, 0, pub.X.length)) throw fail(`independent_person.trustee ${trustee}: there are ${pub.X.length} trustees`);
    ip = { name, trustee };
  }
  if (!Array.isArray(j.ballots)) throw fail('ballots');
  return {
    manifestHash, index: j.contest, styles: j.styles, names: j.candidates, candidates: n, minRanked: j.min_ranked,
    maxRanked: j.max_ranked, seats: j.seats, rule: j.rule, withdrawn, pub, independentPerson: ip, ballots: j.ballots.length,
    ballotsHex: j.ballots,
  };
}

/** d and w of §9.5: ranks packed per ciphertext and ciphertexts per mixed row. */
export function packing(n) {
  let dmax = 0;
  for (let v = 1; v * (n + 1) <= PACK_BOUND; v *= n + 1) dmax++;
  const w0 = Math.ceil(n / dmax);
  const d = Math.ceil(n / w0);
  return { d, w: Math.ceil(n / d) };
}

/** Strictly decodes a trustee's partial decryption of a mixed list (§9.6): {trustee, parts: [partial]}. */
export function decodeMixDecryption(bytes) {
  const r = new Reader(bytes);
  if (bytes.length < 8 || r.u8() !== 1 || r.u8() !== 3) throw fail('not a version 1 partial decryption of a mixed list');
  const trustee = r.u16();
  const count = r.u32();
  if (!isInt(trustee, 1, 32) || count === 0 || count > ((1 << 22) * 64) / MAX_ALPHAS) throw fail(`trustee ${trustee}, ${count} parts`);
  const parts = [];
  for (let i = 0; i < count; i++) {
    const m = r.u32();
    const p = decodePartial(Uint8Array.from(r.bytes(m)));
    if (p.trustee !== trustee) throw fail(`part ${i} is for trustee ${p.trustee}`);
    parts.push(p);
  }
  r.done();
  return { trustee, parts };
}

const tables = new Map(); // n → Map(key → v or [v, …])
const Fp = G.constructor.Fp;

// A key of a ristretto255 element that does not depend on its Edwards
// representative (noble keeps one in .ep): the representatives of one
// element are (x, y), (−x, −y), (iy, ix) and (−iy, −ix), which all have the
// same (xy)² = (T/Z)². Cheaper than the encoding (one inversion, no square
// root); keys of distinct elements may collide, so a match is confirmed
// with an exact comparison.
const keyOf = (T, Zinv) => Fp.sqr(Fp.mul(T, Zinv));

/** v ↦ key of v·G for 0 ≤ v < (n+1)^d, with one batch inversion. */
function packTable(n, d) {
  let t = tables.get(n);
  if (!t) {
    let size = 1;
    for (let i = 0; i < d; i++) size *= n + 1;
    const pts = new Array(size);
    let P = ZERO.ep;
    const B = G.ep;
    for (let v = 0; v < size; v++) {
      pts[v] = P;
      P = P.add(B);
    }
    // Montgomery's trick: every 1/Z from one inversion.
    const prefix = new Array(size);
    let acc = 1n;
    for (let v = 0; v < size; v++) {
      prefix[v] = acc;
      acc = Fp.mul(acc, pts[v].Z);
    }
    let inv = Fp.inv(acc);
    t = new Map();
    for (let v = size - 1; v >= 0; v--) {
      const zi = Fp.mul(inv, prefix[v]);
      inv = Fp.mul(inv, pts[v].Z);
      const k = keyOf(pts[v].T, zi);
      const had = t.get(k);
      t.set(k, had === undefined ? v : [].concat(had, v));
    }
    if (tables.size > 4) tables.clear();
    tables.set(n, t);
  }
  return t;
}

/** v with v·G = Q, or undefined, for 0 ≤ v < (n+1)^d. */
function lookup(tab, Q) {
  const e = Q.ep;
  const hit = tab.get(keyOf(e.T, Fp.inv(e.Z)));
  if (hit === undefined) return undefined;
  for (const v of [].concat(hit)) if (mulPublic(G, BigInt(v)).equals(Q)) return v;
  return undefined;
}

/**
 * The ranking a row of decrypted points (m·G per column, points) encodes
 * (crypto/ranked Decode), or throws naming why not. c = {candidates,
 * minRanked, maxRanked}.
 */
export function decodeRanking(c, points) {
  const n = c.candidates;
  const { d, w } = packing(n);
  const tab = packTable(n, d);
  const ranks = new Array(n).fill(0);
  for (let m = 0; m < w; m++) {
    let v = lookup(tab, points[m]);
    if (v === undefined) throw fail(`column ${m} is not a packed rank vector`);
    for (let cand = m * d; cand < Math.min(n, (m + 1) * d); cand++) {
      ranks[cand] = v % (n + 1);
      v = Math.floor(v / (n + 1));
    }
    if (v !== 0) throw fail(`column ${m} has digits beyond its candidates`);
  }
  const k = ranks.filter((r) => r !== 0).length;
  if (k < c.minRanked || k > c.maxRanked) throw fail(`${k} preferences (need ${c.minRanked} to ${c.maxRanked})`);
  const ranking = new Array(k).fill(-1);
  ranks.forEach((r, cand) => {
    if (r === 0) return;
    if (r > k || ranking[r - 1] >= 0) throw fail(`rank ${r} repeated or out of range`);
    ranking[r - 1] = cand;
  });
  return ranking;
}

/** The §9.1 contest of a parsed contest file (src/ranked.mjs's form). */
const ballotContest = (c) => ({
  manifestHash: c.manifestHash, K: c.pub.K, index: c.index, styles: c.styles, candidates: c.candidates,
  minRanked: c.minRanked, maxRanked: c.maxRanked,
});

/** Decodes one ballot (§9.1): {ballot, b} or {ballot, reason} (set aside: it cannot be read). */
function decodeBallot(rc, ballot, hex) {
  try {
    return { ballot, b: decodeRankedBallot(rc, fromHex(hex)) };
  } catch (e) {
    return { ballot, reason: `cannot be read: ${e.message.replace(/^eballot: (ranked ballot: )?/, '')}` };
  }
}

/**
 * Decodes and verifies ballots of a parsed contest file (§9.1), as
 * `scrutineer ranked` does before it mixes: items = [{ballot (1-based),
 * hex (its text in the file)}]. The range proofs of all of them are
 * verified in one batch (src/batch.mjs batchVerifyRanges); when the batch
 * fails, each ballot is verified alone, so the result names the same
 * failures as verifying them one by one. Returns, in order, {ballot, b}
 * (the decoded ballot) or {ballot, reason} (set aside).
 */
function checkBallots(rc, items) {
  const out = items.map(({ ballot, hex }) => decodeBallot(rc, ballot, hex));
  const read = out.filter((r) => r.b);
  const ranges = batchVerifyRanges(rc.K, read.flatMap((r) => rankedRanges(rc, r.b)));
  for (const r of read) {
    const bad = verifyRankedBallot(rc, r.b, ranges);
    if (bad) {
      r.reason = `invalid ranking: ${bad}`;
      delete r.b;
    }
  }
  return out;
}

/**
 * Decodes and verifies every ballot of a parsed contest file (§9.1), as
 * `scrutineer ranked` does before it mixes. Returns {valid: [decoded
 * ballot], spoilt: [{ballot (1-based), reason}]}.
 */
export function verifyContestBallots(c) {
  const rc = ballotContest(c);
  const valid = [];
  const spoilt = [];
  for (const r of checkBallots(rc, c.ballotsHex.map((hex, i) => ({ ballot: i + 1, hex })))) {
    if (r.b) valid.push(r.b);
    else spoilt.push(r);
  }
  return { valid, spoilt };
}

/** The contest file without its ballots: what a worker needs to check some of them (checkBallotBatch). */
export function contestHeader(text) {
  const j = typeof text === 'string' ? parseStrictJSON(text) : text;
  return JSON.stringify({ ...j, ballots: [] });
}

/**
 * Checks a batch of ballots of a parsed contest file (a worker's job, or
 * the page's): items = [{ballot (1-based), hex}]. Returns, in order,
 * {ballot, reason} for a ballot set aside and {ballot, row} for a valid
 * one, row its packed mix-input row (§9.5) encoded (64 bytes a column).
 */
export function checkBallotBatch(c, items) {
  const rc = ballotContest(c);
  return checkBallots(rc, items).map((r) => {
    const { ballot } = r;
    if (!r.b) return r;
    return { ballot, row: concat(...mixRow(c, r.b).flatMap((ct) => [encodeElement(ct.alpha), encodeElement(ct.beta)])) };
  });
}

/**
 * Row i of the mix input of §9.5 (crypto/ranked MixInput) for a verified
 * ballot b: its ranks packed, column m = Σ_{cand = m·d}^{min(n, (m+1)·d)−1}
 * (n+1)^{cand−m·d}·R_cand, computed homomorphically.
 */
function mixRow(c, b) {
  const n = c.candidates;
  const { d, w } = packing(n);
  const base = BigInt(n + 1);
  return Array.from({ length: w }, (_, m) => {
    const lo = m * d;
    const hi = Math.min(n, (m + 1) * d);
    let { alpha, beta } = b.ranks[hi - 1];
    for (let cand = hi - 2; cand >= lo; cand--) {
      alpha = mulPublic(alpha, base).add(b.ranks[cand].alpha);
      beta = mulPublic(beta, base).add(b.ranks[cand].beta);
    }
    return { alpha, beta };
  });
}

/** The mix input of §9.5 (crypto/ranked MixInput): row i is verified ballot i's mixRow. */
export function mixInput(c, ballots) {
  return listOf(ballots.map((b) => mixRow(c, b)));
}

/**
 * The statement of shuffle number round (0-based) of the contest's mix
 * cascade (crypto/ranked MixStatement with crypto/shuffle RoundStatement):
 * label MIX_LABEL, context manifest_hash ‖ u16 contest ‖ u16 round.
 */
export function mixStatement(c, round) {
  return { K: c.pub.K, label: MIX_LABEL, context: concat(c.manifestHash, u16(c.index), u16(round)) };
}

/**
 * Checks a cascade of shuffles (§9.5): mixes[t] = {list, proof} (bytes of
 * mix-<t+1>.list and .proof) against the list before it (the mix input
 * for the first), each under its round's statement. Every mixer is checked
 * against the list the one before published, so each failure names its
 * own mixer. Returns {failures: [{mixer (1-based), detail}], final: the
 * last list parsed, or null}.
 */
export function verifyMixes(c, input, mixes) {
  const failures = [];
  let prev = input;
  mixes.forEach((m, t) => {
    const r = checkMixer(c, t, prev, m);
    failures.push(...r.failures);
    prev = r.out;
  });
  return { failures, final: prev };
}

/**
 * Checks mixer t (0-based) of a cascade against prev, the list before it
 * (parsed; null when it cannot be read): m = {list, proof} its bytes.
 * Returns {failures: [{mixer (1-based), detail}], out: its list parsed, or
 * null}.
 */
function checkMixer(c, t, prev, m) {
  const failures = [];
  let out = null;
  try {
    out = parseList(m.list);
  } catch (e) {
    failures.push({ mixer: t + 1, detail: `list: ${e.message.replace(/^eballot: /, '')}` });
  }
  if (out && !prev) failures.push({ mixer: t + 1, detail: 'the list before it cannot be read' });
  else if (out) {
    let p = null;
    try {
      p = decodeShuffleProof(m.proof);
    } catch (e) {
      failures.push({ mixer: t + 1, detail: `proof: ${e.message.replace(/^eballot: /, '')}` });
    }
    const bad = p && verifyShuffle(mixStatement(c, t), prev, out, p);
    if (bad) failures.push({ mixer: t + 1, detail: bad === 'shape' ? `shape: ${prev.n} rows in, ${out.n} out` : `check ${bad} fails` });
  }
  return { failures, out };
}

/**
 * Checks mixer t (0-based) from bytes alone (a worker's job, or the
 * page's): prev the bytes of the list before it (the mix input's for the
 * first, listBytes), m = {list, proof}. Returns checkMixer's failures.
 */
export function checkMixerBytes(c, t, prev, m) {
  let p = null;
  try {
    p = parseList(prev);
  } catch {
    p = null;
  }
  return checkMixer(c, t, p, m).failures;
}

/**
 * Checks a trustee's partial decryption pd of the final mixed list (§9.6):
 * every DLEQ proof against the list's α, in parts of 16384. Returns null,
 * or {bad (what is wrong), at: {row, column} (-1 when not one ciphertext)}.
 */
function checkDecryption(c, list, pd) {
  const alphaParts = [];
  for (let o = 0; o < list.alpha.length; o += MAX_ALPHAS) alphaParts.push(list.alpha.slice(o, o + MAX_ALPHAS));
  let at = { row: -1, column: -1 };
  if (pd.parts.length !== alphaParts.length) return { bad: `${pd.parts.length} parts for ${alphaParts.length}`, at };
  for (let i = 0; i < alphaParts.length; i++) {
    try {
      verifyPartial(c.pub, c.manifestHash, alphaParts[i], pd.parts[i]);
    } catch (e) {
      const x = /ciphertext (\d+)/.exec(e.message);
      const g = i * MAX_ALPHAS + (x ? Number(x[1]) : 0);
      if (x) at = { row: Math.floor(g / list.w), column: g % list.w };
      return { bad: x ? `row ${at.row}, column ${at.column}` : e.message.replace(/^eballot: /, ''), at };
    }
  }
  return null;
}

/**
 * checkDecryption from bytes (a worker's job, or the page's): final the
 * final list's (parsed already: list), decryption a decrypt-<j>.bin that
 * decodes.
 */
export function checkDecryptionBytes(c, final, decryption, list = null) {
  return checkDecryption(c, list ?? parseList(final), decodeMixDecryption(decryption));
}

/** The bytes of a shuffle list (crypto/shuffle List.Encode): version, type, rows, width, the ciphertexts. */
export const listBytes = (l) => concat(Uint8Array.of(1, 1), u32(l.n), u16(l.w), l.enc);

const STAGE_FIELDS = ['action', 'from', 'transfer_value', 'quota', 'exhausted', 'remainder', 'surplus', 'elected', 'excluded', 'notes'];
const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * Compares a recounted stv result with a published one. Returns the
 * differences as {check: 'ranked.count', params: {stage, batch, what,
 * candidate?, published, recounted}}, at most limit of them.
 */
export function compareCounts(published, recounted, names = [], limit = 100) {
  const out = [];
  const add = (params) => { if (out.length < limit) out.push({ check: 'ranked.count', params }); };
  for (const k of ['rule', 'candidates', 'seats', 'decimals', 'valid_papers', 'invalid_papers']) {
    if (!same(published?.[k], recounted[k])) add({ stage: 0, batch: 0, what: k, published: published?.[k], recounted: recounted[k] });
  }
  const ps = Array.isArray(published?.stages) ? published.stages : [];
  const n = Math.max(ps.length, recounted.stages.length);
  for (let i = 0; i < n; i++) {
    const p = ps[i];
    const r = recounted.stages[i];
    const where = { stage: (r ?? p)?.stage ?? i + 1, batch: (r ?? p)?.batch ?? 0 };
    if (!p || !r) {
      add({ ...where, what: 'stage', published: p ? 'present' : 'missing', recounted: r ? 'present' : 'missing' });
      continue;
    }
    if (p.stage !== r.stage || (p.batch ?? 0) !== (r.batch ?? 0)) add({ ...where, what: 'stage number', published: `${p.stage}/${p.batch ?? 0}`, recounted: `${r.stage}/${r.batch ?? 0}` });
    for (const k of ['votes', 'states', 'keep_factors']) {
      const pv = p[k] ?? [];
      const rv = r[k] ?? [];
      for (let c = 0; c < Math.max(pv.length, rv.length); c++) {
        if (pv[c] !== rv[c]) add({ ...where, what: k, candidate: names[c] ?? `candidate ${c}`, published: pv[c], recounted: rv[c] });
      }
    }
    for (const k of STAGE_FIELDS) if (!same(p[k], r[k])) add({ ...where, what: k, published: p[k], recounted: r[k] });
    for (const k of Object.keys(p)) {
      if (!['stage', 'batch', 'votes', 'states', 'keep_factors', ...STAGE_FIELDS].includes(k)) add({ ...where, what: k, published: p[k], recounted: undefined });
    }
  }
  const pe = (published?.elected ?? []).map((c) => names[c] ?? c);
  const re = recounted.elected.map((c) => names[c] ?? c);
  if (!same(pe, re)) add({ stage: 0, batch: 0, what: 'elected', published: pe, recounted: re });
  return out;
}

/**
 * Re-runs a published ranked count. files = {contest: text of contest.json,
 * mixes: [{list, proof}] the bytes of mix-<t>.list and mix-<t>.proof for
 * t = 1, 2, … in order, decryptions: [bytes of each decrypt-<j>.bin],
 * result: text of result.json}. Returns {ok, failures: [{check, params}],
 * rankings, count, result} where count is the recount (Go's stv.Result
 * JSON) and failures name every difference: the contest, a ballot that
 * does not prove a valid ranking (ranked.ballot: ballot, 1-based), a
 * mixer whose shuffle does not verify (ranked.shuffle: mixer, 1-based), a
 * trustee's decryption (ranked.decryption: trustee, row, column), a mixed
 * ballot that is not a ranking, the lot, the count stage by stage, the
 * elected candidates; parallel = {workers, inWorkers, inPage}, the
 * workers started and the jobs done in them and in the page.
 *
 * A promise: opts.workers = {url, n} checks the ballots (by batches), the
 * mixers (each against the list before it) and the trustees' decryptions,
 * side by side, in n Web Workers started from url
 * (dist/eballot-verify-worker.min.js), as verifyElection does; without
 * them, or where a worker fails, in the page. opts.onProgress({phase,
 * done, total}) is called as the phases 'ballots', 'mixes' and
 * 'decryptions' advance, then with 'count'.
 * The verdicts and named failures do not depend on where the checks ran.
 */
export async function recountRanked(files, opts = {}) {
  const failures = [];
  const add = (check, params) => failures.push({ check, params });
  const contest = typeof files.contest === 'string' ? parseStrictJSON(files.contest) : files.contest;
  const c = parseRankedContest(contest);
  const res = typeof files.result === 'string' ? parseStrictJSON(files.result) : files.result;
  const mixes = files.mixes ?? [];
  if (mixes.length === 0) throw fail('no shuffle: a ranked count decrypts only mixed ballots (give every mix-<t>.list and mix-<t>.proof)');
  if (mixes.length > MAX_ROUNDS) throw fail(`${mixes.length} shuffles, at most ${MAX_ROUNDS}`);
  const progress = opts.onProgress ?? (() => {});
  // The ballots', the mixers' and the decryptions' checks, as jobs: in Web Workers when the
  // page gives the worker bundle (src/verifyworker.mjs runs the same
  // functions), else here.
  const state = { list: null }; // the final list, once parsed here
  const pool = workerPool(opts.workers, { ranked: contestHeader(contest) }, (job) => {
    if (job.ballots) return checkBallotBatch(c, job.ballots);
    if (job.decryption) return checkDecryptionBytes(c, job.final, job.decryption, state.list);
    return checkMixerBytes(c, job.mixer, job.prev, job);
  });
  try {
    return await recount(c, res, mixes, files.decryptions, pool, progress, failures, add, state);
  } finally {
    pool.close();
  }
}

const tick = () => new Promise((r) => setTimeout(r, 0));

/**
 * Runs jobs on the pool, at most two a worker at a time (one at a time in
 * the page, letting it paint between them); done(job) after each. Returns
 * their results in the jobs' order.
 */
async function runJobs(pool, jobs, done) {
  const out = new Array(jobs.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.max(1, 2 * pool.parallel) }, async () => {
    while (next < jobs.length) {
      const k = next++;
      out[k] = await pool.run(jobs[k], jobs[k]);
      done(jobs[k]);
      await tick();
    }
  }));
  return out;
}

async function recount(c, res, mixes, decryptions, pool, progress, failures, add, state) {
  // The ballots: each one's proofs (§9.1); those that fail are set aside.
  // Checked by batches; the valid ones' mix-input rows kept in file order.
  const total = c.ballots;
  const size = Math.max(1, Math.min(16, Math.ceil(total / (8 * Math.max(1, pool.parallel)))));
  const jobs = [];
  for (let o = 0; o < total; o += size) {
    jobs.push({ ballots: c.ballotsHex.slice(o, o + size).map((hex, k) => ({ ballot: o + k + 1, hex })) });
  }
  let checked = 0;
  progress({ phase: 'ballots', done: 0, total });
  const checkedBallots = (await runJobs(pool, jobs, (j) => progress({ phase: 'ballots', done: (checked += j.ballots.length), total }))).flat();
  const spoilt = checkedBallots.filter((r) => !r.row);
  const rows = checkedBallots.filter((r) => r.row).map((r) => r.row);
  for (const s of spoilt) add('ranked.ballot', { ballot: s.ballot, detail: s.reason });
  const pubSpoilt = Array.isArray(res.spoilt) ? res.spoilt.map((s) => s?.ballot) : res.spoilt;
  if (!same(pubSpoilt, spoilt.map((s) => s.ballot))) add('ranked.spoilt', { published: pubSpoilt, recounted: spoilt.map((s) => s.ballot) });
  const stop = () => ({ ok: false, failures, rankings: null, count: null, result: res, parallel: pool.stats });
  if (rows.length === 0) {
    add('ranked.ballots', { published: res.ballots, recounted: 0 });
    return stop();
  }
  // The cascade: every mixer's shuffle, each against the list the one
  // before published (the mix input for the first), so they are checked
  // side by side (§9.5).
  const { w: width } = packing(c.candidates);
  // The identity's encoding is 32 zero bytes: no α of a list may be it (listOf).
  if (rows.some((r) => Array.from({ length: width }, (_, m) => r.subarray(64 * m, 64 * m + 32)).some((a) => a.every((x) => x === 0)))) {
    throw new Error('eballot: identity α in a shuffle list');
  }
  const input = concat(Uint8Array.of(1, 1), u32(rows.length), u16(width), ...rows);
  let mixed = 0;
  progress({ phase: 'mixes', done: 0, total: mixes.length });
  const mixJobs = mixes.map((m, t) => ({ mixer: t, prev: t === 0 ? input : mixes[t - 1].list, list: m.list, proof: m.proof }));
  const mixFailures = await runJobs(pool, mixJobs, () => progress({ phase: 'mixes', done: ++mixed, total: mixes.length }));
  for (const f of mixFailures.flat()) add('ranked.shuffle', f);
  let final = null;
  try {
    final = parseList(mixes[mixes.length - 1].list);
  } catch {
    final = null; // named above, as the last mixer's list
  }
  const cas = { final };
  if (res.shuffles !== mixes.length) add('ranked.shuffles', { published: res.shuffles, recounted: mixes.length });
  if (!cas.final) return stop(); // the last mixer's list cannot be read: named above
  const list = cas.final;
  const finalBytes = mixes[mixes.length - 1].list;
  const { w } = packing(c.candidates);
  if (list.w !== w) throw fail(`the final list has ${list.w} ciphertexts a row, the contest packs ${w}`);
  const listHash = sha256(finalBytes);
  if (res.final_list_sha256 !== toHex(listHash)) add('ranked.final_list', { published: res.final_list_sha256, recounted: toHex(listHash) });
  if (res.manifest_hash !== toHex(c.manifestHash) || res.contest !== c.index || !same(res.candidates, c.names)) {
    add('ranked.contest', { what: 'the result names another contest or other candidates' });
  }
  // Each trustee's decryption: every DLEQ proof against the final list's
  // α, the trustees' side by side; then taken in the files' order.
  const decoded = decryptions.map((bytes) => {
    try {
      return { pd: decodeMixDecryption(bytes), bytes };
    } catch (e) {
      return { err: e.message.replace(/^eballot: /, '') };
    }
  });
  state.list = list;
  const decJobs = decoded.filter((d) => d.pd).map((d) => ({ final: finalBytes, decryption: d.bytes }));
  let verified = 0;
  progress({ phase: 'decryptions', done: 0, total: decJobs.length });
  const verdicts = await runJobs(pool, decJobs, () => progress({ phase: 'decryptions', done: ++verified, total: decJobs.length }));
  const good = [];
  for (const d of decoded) {
    if (!d.pd) {
      add('ranked.decryption', { trustee: 0, row: -1, column: -1, detail: d.err });
      continue;
    }
    const v = verdicts.shift();
    const { pd } = d;
    if (good.some((g) => g.trustee === pd.trustee)) {
      add('ranked.decryption', { trustee: pd.trustee, row: -1, column: -1, detail: 'given twice' });
      continue;
    }
    if (v) add('ranked.decryption', { trustee: pd.trustee, ...v.at, detail: v.bad });
    else good.push(pd);
  }
  good.sort((a, b) => a.trustee - b.trustee);
  const who = good.map((g) => g.trustee);
  if (!same(res.decrypted_by, who)) add('ranked.decrypted_by', { published: res.decrypted_by, recounted: who });
  const ip = c.independentPerson;
  if (ip && ip.trustee > 0 && !who.includes(ip.trustee)) add('ranked.independent_person', { name: ip.name, trustee: ip.trustee });
  if (good.length < c.pub.threshold) {
    add('ranked.threshold', { have: good.length, need: c.pub.threshold });
    return stop();
  }
  // Combine (any threshold of them: the same result), decrypt and decode.
  const use = good.slice(0, c.pub.threshold);
  const lam = lagrangeAtZero(use.map((g) => g.trustee));
  const rankings = [];
  for (let row = 0; row < list.n; row++) {
    const points = [];
    for (let k = 0; k < list.w; k++) {
      const x = row * list.w + k;
      const part = Math.floor(x / MAX_ALPHAS);
      const off = x % MAX_ALPHAS;
      const xa = use.reduce((acc, g, a) => acc.add(mulPublic(g.parts[part].D[off], lam[a])), ZERO);
      points.push(list.beta[x].subtract(xa));
    }
    try {
      rankings.push(decodeRanking(c, points));
    } catch (e) {
      add('ranked.decode', { row, detail: e.message.replace(/^eballot: /, '') });
    }
  }
  const lot = lotFromSeed(concat(c.manifestHash, listHash), c.candidates);
  if (!same(res.lot, lot)) add('ranked.lot', { published: res.lot, recounted: lot });
  if (res.ballots !== c.ballots) add('ranked.ballots', { published: res.ballots, recounted: c.ballots });
  progress({ phase: 'count' });
  await tick();
  const count = countSTV(c.rule, {
    candidates: c.candidates, names: c.names, seats: c.seats, withdrawn: c.withdrawn, lot,
    ballots: rankings.map((prefs) => ({ weight: 1, prefs })),
  });
  failures.push(...compareCounts(res.count, count, c.names));
  return { ok: failures.length === 0, failures, rankings, count, result: res, parallel: pool.stats };
}

