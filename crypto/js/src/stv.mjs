// The STV count (docs/protocol.md §9.7), a line-for-line twin of Go's
// crypto/stv: ERS97 (values in hundredths: exact in JavaScript numbers, as
// the total is below 2^31 papers × 100) and the PR Foundation's Reference
// Meek Rule (values in 10^-9: BigInt). The result, its stages and its notes
// are the same as Go's, so a verifier can re-run a published count and
// compare it stage by stage (shared vectors crypto/testdata/stv_v1.json).
//
// election = {candidates, names?, seats, withdrawn?: [c], ballots: [{weight,
// prefs: [c, …]}], lot?: [c, …] (null: index order)}.
import { sha256 } from '@noble/hashes/sha2.js';
import { concat, lp, u32, utf8 } from './bytes.mjs';

export const ERS97 = 'ers97';
export const MEEK = 'meek';
export const MAX_CANDIDATES = 1024;
export const MAX_PAPERS = 2 ** 31;

const invalid = (msg) => Object.assign(new Error(`stv: invalid election: ${msg}`), { kind: 'invalid_election' });

/** The lot order from a public seed (§9.7): candidates sorted by SHA-256("eballot-v1/stv/lot" ‖ lp(seed) ‖ u32 c). */
export function lotFromSeed(seed, candidates) {
  const ks = [];
  for (let c = 0; c < candidates; c++) ks.push({ h: sha256(concat(utf8('eballot-v1/stv/lot'), lp(seed), u32(c))), c });
  ks.sort((a, b) => {
    for (let i = 0; i < 32; i++) if (a.h[i] !== b.h[i]) return a.h[i] - b.h[i];
    return a.c - b.c;
  });
  return ks.map((k) => k.c);
}

function validate(e) {
  const n = e?.candidates;
  if (!Number.isInteger(n) || n < 1 || n > MAX_CANDIDATES) throw invalid(`need 1 to ${MAX_CANDIDATES} candidates`);
  if (e.names != null && (!Array.isArray(e.names) || e.names.length !== n)) throw invalid('names');
  const withdrawn = e.withdrawn ?? [];
  const seen = new Set();
  for (const c of withdrawn) {
    if (!Number.isInteger(c) || c < 0 || c >= n || seen.has(c)) throw invalid(`withdrawn candidate ${c}`);
    seen.add(c);
  }
  if (!Number.isInteger(e.seats) || e.seats < 1 || e.seats > n - withdrawn.length || e.seats > MAX_CANDIDATES - 1) throw invalid('seats');
  let papers = 0;
  e.ballots.forEach((b, i) => {
    if (!Number.isInteger(b.weight) || b.weight < 1) throw invalid(`ballot ${i} has weight ${b.weight}`);
    papers += b.weight;
    if (papers > MAX_PAPERS) throw invalid(`more than ${MAX_PAPERS} papers`);
    const s = new Set();
    for (const c of b.prefs) {
      if (!Number.isInteger(c) || c < 0 || c >= n || s.has(c)) throw invalid(`ballot ${i} ranks candidate ${c} twice or does not exist`);
      s.add(c);
    }
  });
  if (e.lot != null) {
    if (e.lot.length !== n) throw invalid('lot order length');
    const s = new Set();
    for (const c of e.lot) {
      if (!Number.isInteger(c) || c < 0 || c >= n || s.has(c)) throw invalid('lot order is not a permutation');
      s.add(c);
    }
  }
}

function lotRank(e) {
  const r = Array.from({ length: e.candidates }, (_, i) => i);
  if (e.lot != null) e.lot.forEach((c, i) => { r[c] = i; });
  return r;
}

/** v (integer, number or bigint) with places decimals, as Go's Value.format. */
function fmt(v, places) {
  let b = BigInt(v);
  const neg = b < 0n;
  if (neg) b = -b;
  let s = b.toString();
  while (s.length <= places) s = `0${s}`;
  s = `${s.slice(0, s.length - places)}.${s.slice(s.length - places)}`;
  return neg ? `-${s}` : s;
}

const nameOf = (e, c) => (e.names != null ? e.names[c] : `candidate ${c}`);

/** A stage in Go's JSON field order, omitting what Go omits (omitempty). */
function stageJSON(st) {
  const o = { stage: st.number };
  if (st.batch) o.batch = st.batch;
  o.action = st.action;
  if (st.from?.length) o.from = st.from;
  if (st.transferValue) o.transfer_value = st.transferValue;
  o.votes = st.votes;
  o.states = st.states;
  if (st.keepFactors?.length) o.keep_factors = st.keepFactors;
  o.exhausted = st.exhausted;
  if (st.remainder) o.remainder = st.remainder;
  o.quota = st.quota;
  if (st.surplus) o.surplus = st.surplus;
  if (st.elected?.length) o.elected = st.elected;
  if (st.excluded?.length) o.excluded = st.excluded;
  if (st.notes?.length) o.notes = st.notes;
  return o;
}

/**
 * Counts an election under rule ('ers97' or 'meek'). Returns the result in
 * the JSON shape of Go's stv.Result: {rule, candidates, seats, decimals,
 * valid_papers, invalid_papers, stages: [...], elected: [...]}.
 */
export function countSTV(rule, election) {
  const e = { ...election, withdrawn: election.withdrawn ?? [], ballots: election.ballots ?? [] };
  validate(e);
  if (rule === ERS97) return countERS97(e);
  if (rule === MEEK) return countMeek(e);
  throw invalid(`unknown rule ${JSON.stringify(rule)}`);
}

// ---- ERS97 (crypto/stv/ers97.go) ----

const ONE = 100;
const ceilDiv = (a, b) => Math.trunc((a + b - 1) / b); // Go: (a + b − 1) / b, truncated
const cmpNum = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

function countERS97(e) {
  const n = e.candidates;
  const s = {
    e, n, seats: e.seats, lot: lotRank(e), state: new Array(n).fill('continuing'), vote: new Array(n).fill(0),
    batches: Array.from({ length: n }, () => []), total: 0, quota: 0, exhausted: 0, remainder: 0, elected: [],
    pending: new Array(n).fill(false), history: [], stages: [], stageNo: 0, valid: 0, invalid: 0,
  };
  for (const c of e.withdrawn) s.state[c] = 'withdrawn';
  const first = Array.from({ length: n }, () => ({ value: 0, parcels: [] }));
  e.ballots.forEach((b, i) => {
    const pos = ersNext(s, i, -1);
    if (pos < 0) {
      s.invalid += b.weight;
      return;
    }
    s.valid += b.weight;
    const c = b.prefs[pos];
    first[c].parcels.push({ b: i, pos, count: b.weight });
    s.vote[c] += b.weight * ONE;
  });
  for (let c = 0; c < n; c++) {
    if (first[c].parcels.length > 0) {
      first[c].value = ONE;
      s.batches[c].push(first[c]);
    }
  }
  s.total = s.valid * ONE;
  s.quota = ceilDiv(s.total, s.seats + 1);
  snapshot(s);
  const st = newStage(s, 'first', 0, null, '');
  electStep(s, st);
  finish(s, st);
  ersRun(s);
  return {
    rule: ERS97, candidates: n, seats: s.seats, decimals: 2, valid_papers: s.valid, invalid_papers: s.invalid,
    stages: s.stages, elected: s.elected,
  };
}

function ersNext(s, b, pos) {
  const { prefs } = s.e.ballots[b];
  for (let p = pos + 1; p < prefs.length; p++) if (s.state[prefs[p]] === 'continuing') return p;
  return -1;
}

const snapshot = (s) => s.history.push(s.vote.slice());

function compareHistory(s, a, b) {
  for (const h of s.history) if (h[a] !== h[b]) return h[a] < h[b] ? -1 : 1;
  return 0;
}

function newStage(s, action, batchNo, from, tv) {
  if (batchNo <= 1) s.stageNo++;
  return { number: s.stageNo, batch: batchNo, action, from, transferValue: tv, elected: [], excluded: [], notes: [] };
}

function finish(s, st) {
  st.votes = s.vote.map((v) => fmt(v, 2));
  st.states = s.state.slice();
  st.exhausted = fmt(s.exhausted, 2);
  st.remainder = fmt(s.remainder, 2);
  st.quota = fmt(s.quota, 2);
  s.stages.push(stageJSON(st));
}

const continuing = (s) => s.state.flatMap((x, c) => (x === 'continuing' ? [c] : []));
const unfilled = (s) => s.seats - s.elected.length;

function elect(s, st, c) {
  s.state[c] = 'elected';
  s.elected.push(c);
  st.elected.push(c);
  if (s.vote[c] > s.quota) s.pending[c] = true;
}

function activeVote(s) {
  let v = s.total - s.exhausted - s.remainder;
  for (const c of s.elected) v -= Math.min(s.vote[c], s.quota);
  return v;
}

function electStep(s, st) {
  while (unfilled(s) > 0) {
    let thr = s.quota;
    const b = ceilDiv(activeVote(s), unfilled(s) + 1);
    if (b < thr) thr = b;
    const eligible = continuing(s).filter((c) => s.vote[c] >= thr && s.vote[c] > 0);
    if (eligible.length === 0) return;
    let top = eligible[0];
    for (const c of eligible) if (s.vote[c] > s.vote[top]) top = c;
    const group = eligible.filter((c) => s.vote[c] === s.vote[top]);
    group.sort((a, b2) => -compareHistory(s, a, b2));
    if (group.length <= unfilled(s)) {
      for (const c of group) elect(s, st, c);
      continue;
    }
    const u = unfilled(s);
    const boundary = group[u];
    const chosen = group.slice(0, u).filter((c) => compareHistory(s, c, boundary) > 0);
    for (const c of chosen) {
      elect(s, st, c);
      st.notes.push(`${nameOf(s.e, c)} deemed elected before candidates with equal votes: more votes at an earlier point (5.6.2)`);
    }
    if (chosen.length < u) {
      st.notes.push('candidates with equal votes at every point and too few places: none of them deemed elected at this stage (5.6.2)');
    }
    return;
  }
}

const joinNote = (a, b) => (a === '' ? b : `${a}; ${b}`);

function ersRun(s) {
  for (;;) {
    if (unfilled(s) === 0) {
      ersEnd(s, null, continuing(s), 'all places filled: remaining candidates excluded (5.5.2)');
      return;
    }
    const cont = continuing(s);
    if (cont.length <= unfilled(s)) {
      ersEnd(s, byVotesDesc(s, cont), null, 'as many continuing candidates as places: all deemed elected (4.3)');
      return;
    }
    let surplus = 0;
    const pending = [];
    for (let c = 0; c < s.n; c++) {
      if (s.pending[c]) {
        pending.push(c);
        surplus += s.vote[c] - s.quota;
      }
    }
    let losers = sureLosers(s, cont, surplus);
    if (pending.length > 0 && losers.length === 0) {
      transferSurplus(s, pending);
      continue;
    }
    let note = '';
    if (pending.length > 0) note = `surplus of ${fmt(surplus, 2)} deferred (5.2.2)`;
    if (losers.length === 0) {
      const [c, tie] = lowest(s, cont);
      losers = [c];
      if (tie !== '') note = joinNote(note, tie);
    }
    if (cont.length - losers.length === unfilled(s)) {
      const keep = cont.filter((c) => !losers.includes(c));
      ersEnd(s, byVotesDesc(s, keep), losers, joinNote(note, 'an exclusion would leave as many continuing candidates as places: they are deemed elected (5.5.1)'));
      return;
    }
    exclude(s, losers, note);
  }
}

function byVotesDesc(s, cs) {
  return cs.slice().sort((a, b) => {
    if (s.vote[a] !== s.vote[b]) return s.vote[a] > s.vote[b] ? -1 : 1;
    const h = compareHistory(s, a, b);
    if (h !== 0) return -h;
    return s.lot[b] - s.lot[a];
  });
}

function ersEnd(s, toElect, toExclude, note) {
  if (!toElect?.length && !toExclude?.length) return;
  const st = newStage(s, 'end', 0, null, '');
  for (const c of toElect ?? []) elect(s, st, c);
  for (const c of toExclude ?? []) {
    s.state[c] = 'excluded';
    st.excluded.push(c);
  }
  st.notes.push(note);
  finish(s, st);
}

function sureLosers(s, cont, surplus) {
  const byVote = cont.slice().sort((a, b) => cmpNum(s.vote[a], s.vote[b]));
  const maxLosers = cont.length - unfilled(s);
  let losers = [];
  let acc = surplus;
  for (let i = 0; i < byVote.length;) {
    let j = i;
    while (j < byVote.length && s.vote[byVote[j]] === s.vote[byVote[i]]) {
      acc += s.vote[byVote[j]];
      j++;
    }
    if (j === byVote.length) break;
    if (acc <= s.vote[byVote[j]] && j <= maxLosers) losers = byVote.slice(0, j);
    i = j;
  }
  return losers;
}

function lowest(s, cont) {
  let low = cont[0];
  for (const c of cont) if (s.vote[c] < s.vote[low]) low = c;
  const tied = cont.filter((c) => s.vote[c] === s.vote[low]);
  if (tied.length === 1) return [low, ''];
  let best = tied[0];
  for (const c of tied.slice(1)) {
    const h = compareHistory(s, c, best);
    if (h < 0 || (h === 0 && s.lot[c] < s.lot[best])) best = c;
  }
  const byLot = tied.some((c) => c !== best && compareHistory(s, c, best) === 0);
  if (byLot) return [best, `${nameOf(s.e, best)} excluded by lot among candidates with equal votes at every point (5.2.5)`];
  return [best, `${nameOf(s.e, best)} excluded: fewest votes at the earliest point where the tied candidates differed (5.2.5)`];
}

/** Parcels by next continuing preference: [Map recipient → parcels, non-transferable count]. */
function sortByNext(s, ps) {
  const to = new Map();
  let nt = 0;
  for (const p of ps) {
    const pos = ersNext(s, p.b, p.pos);
    if (pos < 0) {
      nt += p.count;
      continue;
    }
    const c = s.e.ballots[p.b].prefs[pos];
    if (!to.has(c)) to.set(c, []);
    to.get(c).push({ b: p.b, pos, count: p.count });
  }
  return [to, nt];
}

const sortedKeys = (m) => [...m.keys()].sort((a, b) => a - b);
const countOf = (ps) => ps.reduce((a, p) => a + p.count, 0);

function transferSurplus(s, pending) {
  let c = pending[0];
  let tieNote = '';
  for (const x of pending.slice(1)) if (s.vote[x] - s.quota > s.vote[c] - s.quota) c = x;
  const tied = pending.filter((x) => s.vote[x] - s.quota === s.vote[c] - s.quota);
  if (tied.length > 1) {
    let best = tied[0];
    for (const x of tied.slice(1)) {
      const h = compareHistory(s, x, best);
      if (h > 0 || (h === 0 && s.lot[x] < s.lot[best])) best = x;
    }
    c = best;
    const byLot = tied.some((x) => x !== best && compareHistory(s, x, best) === 0);
    tieNote = byLot
      ? `equal surpluses: ${nameOf(s.e, c)}'s transferred first by lot (5.2.3)`
      : `equal surpluses: ${nameOf(s.e, c)}'s transferred first, more votes at the earliest point where they differed (5.2.3)`;
  }
  const surplus = s.vote[c] - s.quota;
  const last = s.batches[c][s.batches[c].length - 1];
  const [to] = sortByNext(s, last.parcels);
  let papers = 0;
  for (const ps of to.values()) papers += countOf(ps);
  let tv = last.value;
  if (papers > 0 && papers * last.value > surplus) tv = Math.trunc(surplus / papers);
  let credited = 0;
  for (const r of sortedKeys(to)) {
    const cnt = countOf(to.get(r));
    if (tv > 0) s.batches[r].push({ value: tv, parcels: to.get(r) });
    s.vote[r] += cnt * tv;
    credited += cnt * tv;
  }
  s.remainder += surplus - credited;
  s.vote[c] = s.quota;
  s.pending[c] = false;
  const st = newStage(s, 'surplus', 0, [c], fmt(tv, 2));
  if (tieNote !== '') st.notes.push(tieNote);
  snapshot(s);
  electStep(s, st);
  finish(s, st);
}

function exclude(s, losersIn, note) {
  const losers = losersIn.slice().sort((a, b) => a - b);
  for (const c of losers) s.state[c] = 'excluded';
  const byValue = new Map();
  for (const c of losers) {
    for (const b of s.batches[c]) {
      if (!byValue.has(b.value)) byValue.set(b.value, []);
      byValue.get(b.value).push(...b.parcels);
    }
    s.batches[c] = [];
  }
  const values = [...byValue.keys()].sort((a, b) => b - a);
  if (values.length === 0) {
    const st = newStage(s, 'exclusion', 0, losers, '');
    st.excluded = losers.slice();
    if (note !== '') st.notes.push(note);
    for (const c of losers) s.vote[c] = 0;
    snapshot(s);
    electStep(s, st);
    finish(s, st);
    return;
  }
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const batchNo = values.length > 1 ? i + 1 : 0;
    const st = newStage(s, 'exclusion', batchNo, losers, fmt(v, 2));
    if (i === 0) {
      st.excluded = losers.slice();
      if (note !== '') st.notes.push(note);
    }
    const ps = byValue.get(v);
    for (const p of ps) s.vote[s.e.ballots[p.b].prefs[p.pos]] -= p.count * v;
    const [to, nt] = sortByNext(s, ps);
    for (const r of sortedKeys(to)) {
      s.batches[r].push({ value: v, parcels: to.get(r) });
      s.vote[r] += countOf(to.get(r)) * v;
    }
    s.exhausted += nt * v;
    if (s.elected.length === 0 && s.exhausted + s.remainder > 0) {
      const q = ceilDiv(s.total - s.exhausted - s.remainder, s.seats + 1);
      if (q !== s.quota) {
        st.notes.push(`quota recalculated to ${fmt(q, 2)} (5.4.8)`);
        s.quota = q;
      }
    }
    snapshot(s);
    electStep(s, st);
    finish(s, st);
    if (unfilled(s) === 0) return;
  }
}

// ---- Meek (crypto/stv/meek.go), BigInt ----

const M_ONE = 1_000_000_000n;
const M_OMEGA = 1_000n;
const mulDiv = (a, b, d, up) => {
  const p = a * b;
  const q = p / d;
  return up && q * d !== p ? q + 1n : q;
};
const bmax = (a, b) => (a > b ? a : b);
const bmin = (a, b) => (a < b ? a : b);

function countMeek(e) {
  const n = e.candidates;
  const m = {
    e, n, seats: e.seats, lot: lotRank(e), state: new Array(n).fill('continuing'), kf: new Array(n).fill(M_ONE),
    vote: new Array(n).fill(0n), quota: 0n, surplus: 0n, residual: 0n, papers: 0n, elected: [], stages: [], defeatedVote: [],
  };
  for (const c of e.withdrawn) {
    m.state[c] = 'withdrawn';
    m.kf[c] = 0n;
  }
  let invalidPapers = 0n;
  for (const b of e.ballots) {
    if (b.prefs.length === 0) invalidPapers += BigInt(b.weight);
    else m.papers += BigInt(b.weight);
  }
  for (const b of e.ballots) {
    for (const c of b.prefs) {
      if (m.state[c] === 'continuing') {
        m.vote[c] += BigInt(b.weight) * M_ONE;
        break;
      }
    }
  }
  m.quota = (m.papers * M_ONE) / BigInt(m.seats + 1) + 1n;
  m.residual = m.papers * M_ONE;
  for (const v of m.vote) m.residual -= v;
  meekRecord(m, meekStage(1, 'first'));
  let round = 1;
  while (hopeful(m).length > m.seats - m.elected.length && m.seats - m.elected.length > 0) {
    round++;
    const st = meekStage(round, 'round');
    let status = 'iterate';
    let last = m.papers * M_ONE;
    let iterations = 0;
    while (status === 'iterate') {
      iterations++;
      [status, last] = iterate(m, st, last);
    }
    st.notes.push(`${iterations} iterations`);
    if (status !== 'elected') defeatLow(m, st, status);
    meekRecord(m, st);
  }
  const h = hopeful(m);
  if (h.length > 0) {
    round++;
    const st = meekStage(round, 'end');
    for (const c of h) {
      if (m.elected.length < m.seats) meekElect(m, st, c);
      else {
        m.state[c] = 'excluded';
        st.excluded.push(c);
        m.defeatedVote.push([c, m.vote[c]]);
        m.kf[c] = 0n;
      }
    }
    meekRecord(m, st);
  }
  return {
    rule: MEEK, candidates: n, seats: m.seats, decimals: 9, valid_papers: Number(m.papers), invalid_papers: Number(invalidPapers),
    stages: m.stages, elected: m.elected,
  };
}

const meekStage = (number, action) => ({ number, batch: 0, action, elected: [], excluded: [], notes: [] });
const hopeful = (m) => m.state.flatMap((x, c) => (x === 'continuing' ? [c] : []));

function meekElect(m, st, c) {
  m.state[c] = 'elected';
  m.elected.push(c);
  st.elected.push(c);
}

function iterate(m, st, lastIn) {
  let last = lastIn;
  for (let c = 0; c < m.n; c++) if (m.state[c] === 'continuing' || m.state[c] === 'elected') m.vote[c] = 0n;
  m.residual = 0n;
  for (const b of m.e.ballots) {
    if (b.prefs.length === 0) continue;
    const wt = BigInt(b.weight);
    let w = M_ONE;
    let rest = wt * M_ONE;
    for (const c of b.prefs) {
      if (m.kf[c] === 0n) continue;
      const keep = mulDiv(w, m.kf[c], M_ONE, true);
      const v = keep * wt;
      m.vote[c] += v;
      w -= keep;
      rest -= v;
      if (w <= 0n) break;
    }
    m.residual += rest;
  }
  let votes = 0n;
  for (let c = 0; c < m.n; c++) if (m.state[c] === 'continuing' || m.state[c] === 'elected') votes += m.vote[c];
  m.quota = votes / BigInt(m.seats + 1) + 1n;
  let status = 'iterate';
  for (const c of hopeful(m)) {
    if (m.vote[c] >= m.quota) {
      meekElect(m, st, c);
      status = 'elected';
    }
  }
  m.surplus = 0n;
  for (const c of m.elected) m.surplus += m.vote[c] - m.quota;
  m.surplus = bmax(m.surplus, 0n);
  if (status !== 'elected') {
    if (m.surplus < M_OMEGA) status = 'omega';
    else if (m.surplus >= last) status = 'stable';
  }
  if (status === 'iterate') {
    last = m.surplus;
    for (const c of m.elected) m.kf[c] = mulDiv(mulDiv(m.kf[c], m.quota, M_ONE, true), M_ONE, m.vote[c], true);
  }
  return [status, last];
}

function defeatLow(m, st, status) {
  const h = hopeful(m);
  if (h.length === 0) return;
  let low = m.vote[h[0]];
  for (const c of h) low = bmin(low, m.vote[c]);
  const tied = h.filter((c) => m.vote[c] <= low + m.surplus);
  let d = tied[0];
  for (const c of tied) if (m.lot[c] < m.lot[d]) d = c;
  if (tied.length > 1) st.notes.push(`${tied.length} candidates within the surplus of the lowest vote: ${nameOf(m.e, d)} defeated by lot (T)`);
  if (status === 'stable') st.notes.push('surplus stopped falling (B.2.e)');
  st.excluded.push(d);
  m.state[d] = 'excluded';
  m.defeatedVote.push([d, m.vote[d]]);
  m.kf[d] = 0n;
}

function meekRecord(m, st) {
  st.votes = m.vote.map((v) => fmt(v, 9));
  st.keepFactors = m.kf.map((v) => fmt(v, 9));
  for (const [c] of m.defeatedVote) m.vote[c] = 0n;
  m.defeatedVote = [];
  st.states = m.state.slice();
  st.quota = fmt(m.quota, 9);
  st.surplus = fmt(m.surplus, 9);
  st.exhausted = fmt(m.residual, 9);
  m.stages.push(stageJSON(st));
}
