// The scrutineer's signed result and report (docs/protocol.md §8.5) in the
// browser, as Go's crypto/report and crypto/tally: the strict decoding of a
// report (version 1, 2 or 3), the statutory result recomputed from the
// manifest and the decrypted counts (tally.Compute, RegimeOf), and the
// member-by-member comparison naming result.counts, result.derived or
// result.particulars.
import { canonicalJSON, parseStrictJSON } from './canonical.mjs';
import { parseCloseTime } from './receipt.mjs';

export const DOCUMENT = "Result (TULRCA 1992 s.231) and scrutineer's report (s.231B)";
export const STATEMENTS = [
  ['s.231B(1)(a)', 'There are no reasonable grounds for believing that there was any contravention of a requirement imposed by or under any enactment in relation to the ballot.'],
  ['s.231B(1)(b)', 'The arrangements made with respect to the production, storage, distribution, return or other handling of the voting papers used in the ballot, and the arrangements for the counting of the votes, included all such security arrangements as were reasonably practicable for the purpose of minimising the risk that any unfairness or malpractice might occur.'],
  ['s.231B(1)(c)', "The scrutineer has been able to carry out the scrutineer's functions without such interference as would make it reasonable for any person to call the scrutineer's independence in relation to the union into question."],
];
export const MAX_REPORT = 16 << 20;

// The report's members and how Go decodes each (encoding/json with the
// form check of crypto/internal/canonjson): int, str, bool; ['arr', T] an
// array or null; ['ptr', T] a value or null; ['omit', T] absent or a
// non-zero value; ['optptr', T] absent or a value (never null); an object
// literal: a nested struct (never null).
const OPTION = { id: 'str', label: 'str', count: 'int' };
const QUESTION = {
  id: 'str', text: 'str', yes_no: 'bool', yes: 'int', no: 'int', options: ['arr', OPTION], spoilt: 'int',
  majority_yes: 'bool', support_threshold_met: ['ptr', 'bool'], supported: 'bool',
};
const CHANNEL = { channel: 'str', votes_cast: 'int', questions: ['arr', QUESTION] };
const REJECTED = { voted_online: 'int', second_return: 'int', late: 'int' };
const STYLE = {
  id: 'str', name: 'str', entitled: 'int', votes_cast: 'int', turnout: 'str', questions: ['arr', QUESTION],
  turnout_threshold_met: ['ptr', 'bool'],
  // A ballot with a paper section (docs/protocol.md §10).
  channels: ['omit', ['arr', CHANNEL]], paper_rejected: ['optptr', REJECTED],
};
const REGIME = { name: 'str', turnout_threshold: 'bool', support_threshold: 'bool', mandate_months: ['omit', 'int'], notes: ['arr', 'str'] };
const RESULT = {
  election_id: 'str', title: 'str', kind: 'str', manifest_hash: 'str', scrutineer: ['omit', 'str'], closed_at: ['omit', 'str'], date_of_ballot: 'str',
  regime: REGIME, mandate_expires: ['omit', 'str'], styles: ['arr', STYLE], aggregate: STYLE, trustees: ['arr', 'int'],
};
const FAILURE = { check: ['omit', 'str'], item: 'str', index: 'int', tracker: ['omit', 'str'], reason: 'str' };
const VERIFICATION = {
  entries: 'int', checkpoints: 'int', root: 'str', style_counts: ['arr', 'int'], authorisations_issued: ['arr', 'int'],
  failures: ['arr', FAILURE], more_failures: 'int', final_checkpoint: ['optptr', 'str'],
  paper: ['optptr', { batches: 'int', counted: 'int', head: 'str' }],
};
const REPORT = {
  version: 'int', document: 'str', election_id: 'str', title: 'str', manifest_hash: 'str', scrutineer: 'str', signed_by: 'str',
  date: 'str', statements: ['arr', { clause: 'str', text: 'str', satisfied: 'bool', particulars: ['arr', 'str'] }],
  result: ['ptr', RESULT], verification: VERIFICATION, rejected_partials: ['arr', { trustee: 'int', reason: 'str' }], notes: ['arr', 'str'],
};

const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Throws unless v is in the one accepted form of type t (see above). */
function check(v, t, at) {
  const no = (why) => { throw new Error(`${at}: ${why}`); };
  if (t === 'int') { if (!Number.isSafeInteger(v)) no('not an integer'); return; }
  if (t === 'str') { if (typeof v !== 'string') no('not a string'); return; }
  if (t === 'bool') { if (typeof v !== 'boolean') no('not a boolean'); return; }
  if (Array.isArray(t)) {
    const [kind, el] = t;
    if (kind === 'arr') {
      if (v === null) return;
      if (!Array.isArray(v)) no('not an array');
      v.forEach((x, i) => check(x, el, `${at}[${i}]`));
      return;
    }
    if (kind === 'ptr') { if (v !== null) check(v, el, at); return; }
    no('internal'); // 'omit' and 'optptr' are handled by the object
  }
  if (!isObj(v)) no('not an object');
  for (const k of Object.keys(v)) if (!Object.hasOwn(t, k)) no(`unknown field "${k}"`);
  for (const [k, ft] of Object.entries(t)) {
    const kind = Array.isArray(ft) ? ft[0] : '';
    if (!Object.hasOwn(v, k)) {
      if (kind === 'omit' || kind === 'optptr') continue;
      no(`missing field "${k}"`);
    }
    const x = v[k];
    if (kind === 'omit') {
      check(x, ft[1], `${at}.${k}`);
      if (x === '' || x === 0 || x === null || (Array.isArray(x) && x.length === 0)) no(`"${k}" is empty (it is left out when empty)`);
    } else if (kind === 'optptr') {
      if (x === null) no(`"${k}" is null`);
      check(x, ft[1], `${at}.${k}`);
    } else check(x, ft, `${at}.${k}`);
  }
}

/**
 * Decodes a report's JSON strictly (version 1, 2 or 3), as Go's report.Parse:
 * the canonical-JSON subset, exactly the members of the format (in their
 * case, none missing, none unknown), a result and three statements, the
 * final_checkpoint of version 2 (absent in version 1), a YYYY-MM-DD date.
 */
export function parseReport(text) {
  if (new TextEncoder().encode(text).length > MAX_REPORT) throw new Error('too large');
  const r = parseStrictJSON(text);
  let formError = null;
  try { check(r, REPORT, 'report'); } catch (e) { formError = e; }
  if (!isObj(r) || !isObj(r.result) || !Array.isArray(r.statements) || r.statements.length !== 3) throw new Error('not a report with a result and three statements');
  const fc = isObj(r.verification) ? r.verification.final_checkpoint : undefined;
  if (r.version !== 1 && r.version !== 2 && r.version !== 3) throw new Error(`version ${r.version} is not supported (this reader knows versions 1, 2 and 3)`);
  if (r.version === 1 && fc !== undefined) throw new Error('a version 1 document has no final_checkpoint');
  if (r.version >= 2 && fc === undefined) throw new Error(`a version ${r.version} document must name its final_checkpoint`);
  if (r.version < 3 && isObj(r.result) && Object.hasOwn(r.result, 'closed_at')) throw new Error(`a version ${r.version} document has no closed_at in its result`);
  if (formError) throw formError;
  if (!/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(r.date)) throw new Error('the date is not YYYY-MM-DD');
  return r;
}

const LONDON = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit' });
const ymd = (d) => d.toISOString().slice(0, 10);

/**
 * The legal regime of a manifest (tally regimeOf): the signed regime
 * object's thresholds and mandate as they are; the name is only copied.
 */
export function regimeOf(m) {
  const mr = m.regime;
  if (mr === undefined) {
    if (m.kind === 'industrial_action') throw new Error(`eballot: industrial action ballot "${m.election_id}" states no legal regime`);
    return { name: '', turnout_threshold: false, support_threshold: false, mandate_months: 0, notes: ['the manifest states no legal regime: no statutory turnout or support threshold'] };
  }
  const applies = (b) => (b ? 'applies' : 'does not apply');
  const mandate = mr.mandate_months > 0 ? `mandate ${mr.mandate_months} months (s.234)` : 'no mandate';
  const note = `regime ${mr.id} (signed in the manifest): 50% turnout test (s.226(2)(a)(iia)) ${applies(mr.turnout_threshold)}; 40% support test (s.226(2B)) ${applies(mr.support_threshold)}; ${mandate}; Code of Practice: ${mr.code_of_practice}`;
  return { name: mr.name, turnout_threshold: mr.turnout_threshold, support_threshold: mr.support_threshold, mandate_months: mr.mandate_months, notes: [note] };
}

function yesNo(q) {
  if (q.options.length !== 2 || q.max !== 1) return null;
  const yes = q.options.findIndex((o) => o.id.toLowerCase() === 'yes');
  const no = q.options.findIndex((o) => o.id.toLowerCase() === 'no');
  return yes >= 0 && no >= 0 ? [yes, no] : null;
}

function finish(sr, reg) {
  if (sr.entitled > 0) {
    // Two decimals, rounded down, in integers.
    const bp = (BigInt(sr.votes_cast) * 10000n) / BigInt(sr.entitled);
    sr.turnout = `${bp / 100n}.${String(bp % 100n).padStart(2, '0')}%`;
  } else sr.turnout = 'n/a';
  sr.turnout_threshold_met = reg.turnout_threshold ? sr.entitled > 0 && 2 * sr.votes_cast >= sr.entitled : null;
  for (const q of sr.questions) {
    q.majority_yes = q.yes_no && q.yes > q.no;
    q.support_threshold_met = reg.support_threshold && q.yes_no ? sr.entitled > 0 && 5 * q.yes >= 2 * sr.entitled : null;
    q.supported = q.majority_yes && sr.turnout_threshold_met !== false && q.support_threshold_met !== false;
  }
}

/**
 * The question results of one channel (tally's questions): counts from
 * count(q, o); spoilt from spoilt(q) when given, else (online) votes minus
 * marks for a question of one mark, -1 for others. Channel questions are
 * not finished (no majority or thresholds: those are of the total).
 */
function channelQuestions(m, votes, count, spoilt) {
  return m.questions.map((q, qi) => {
    const opts = q.options.map((o, oi) => ({ id: o.id, label: o.label, count: count(qi, oi) }));
    const marks = opts.reduce((a, o) => a + o.count, 0);
    const yn = yesNo(q);
    return {
      id: q.id, text: q.text, yes_no: !!yn, yes: yn ? opts[yn[0]].count : 0, no: yn ? opts[yn[1]].count : 0, options: opts,
      spoilt: spoilt ? spoilt(qi) : q.max === 1 ? votes - marks : -1,
      majority_yes: false, support_threshold_met: null, supported: false,
    };
  });
}

/** Adds src's counts into dst (same questions; tally's addQuestions). */
function addQuestions(dst, src) {
  dst.forEach((d, qi) => {
    const sq = src[qi];
    d.yes += sq.yes;
    d.no += sq.no;
    d.options.forEach((o, oi) => { o.count += sq.options[oi].count; });
    d.spoilt = d.spoilt < 0 || sq.spoilt < 0 ? -1 : d.spoilt + sq.spoilt;
  });
}

const zeroQuestions = (m) => channelQuestions(m, 0, () => 0, () => 0);

/**
 * The statutory result (tally.Compute): m the manifest, manifestHash hex,
 * count(s, q, o) the decrypted count, ballots[s] the ballots counted per
 * style, trustees those combined; paper, for a ballot with a paper section
 * (docs/protocol.md §10), {totals(s, channel) → {papers, questions:
 * [{blank, options, spoilt}]}, rejected(s) → {voted_online, second_return,
 * late}}: the result then gives each channel and their total; closedAt
 * the time voting stopped as the ledger's verified close states it ('' when
 * it states none: closes_at is taken). Returns the result as its JSON
 * value.
 */
export function computeResult(m, manifestHash, count, ballots, trustees, paper = null, closedAt = '') {
  const reg = regimeOf(m);
  const r = { election_id: m.election_id, title: m.title, kind: m.kind, manifest_hash: manifestHash };
  const scr = Object.hasOwn(m.texts, 'scrutineer') ? m.texts.scrutineer : '';
  if (scr !== '') r.scrutineer = scr;
  let closes = new Date(m.closes_at);
  if (closedAt !== '') {
    // The actual close (an early close): the date of the ballot is the
    // last day votes could be cast (s.246); the s.234 mandate runs from it.
    r.closed_at = closedAt;
    const at = parseCloseTime(closedAt);
    if (at < closes) closes = at;
  }
  r.date_of_ballot = LONDON.format(closes);
  const regime = { name: reg.name, turnout_threshold: reg.turnout_threshold, support_threshold: reg.support_threshold };
  if (reg.mandate_months) regime.mandate_months = reg.mandate_months;
  regime.notes = reg.notes;
  r.regime = regime;
  if (reg.mandate_months > 0 && m.kind === 'industrial_action') {
    const [y, mo, d] = r.date_of_ballot.split('-').map(Number);
    r.mandate_expires = ymd(new Date(Date.UTC(y, mo - 1 + reg.mandate_months, d - 1)));
  }
  let aggChannels = null;
  let aggRejected = null;
  r.styles = m.styles.map((st, si) => {
    const online = ballots[si] ?? 0;
    const sr = { id: st.id, name: st.name, entitled: st.entitled, votes_cast: online, turnout: '' };
    const onlineQs = channelQuestions(m, online, (qi, oi) => count(si, qi, oi), null);
    if (!paper) {
      sr.questions = onlineQs.map((q) => { const o = { ...q }; delete o.majority_yes; delete o.support_threshold_met; delete o.supported; return o; });
    } else {
      // Every channel (s.230(4)(b), s.231): online, then postal and
      // workplace paper, and their total.
      sr.channels = [{ channel: 'online', votes_cast: online, questions: onlineQs }];
      for (const ch of ['postal', 'workplace']) {
        const t = paper.totals(si, ch);
        sr.channels.push({ channel: ch, votes_cast: t.papers, questions: channelQuestions(m, t.papers, (qi, oi) => t.questions[qi]?.options[oi] ?? 0, (qi) => (t.questions[qi] ? t.questions[qi].blank + t.questions[qi].spoilt : 0)) });
      }
      sr.votes_cast = 0;
      sr.questions = zeroQuestions(m);
      for (const c of sr.channels) { sr.votes_cast += c.votes_cast; addQuestions(sr.questions, c.questions); }
      sr.paper_rejected = { voted_online: 0, second_return: 0, late: 0, ...(paper.rejected(si) ?? {}) };
      aggChannels ??= sr.channels.map((c) => ({ channel: c.channel, votes_cast: 0, questions: zeroQuestions(m) }));
      sr.channels.forEach((c, i) => { aggChannels[i].votes_cast += c.votes_cast; addQuestions(aggChannels[i].questions, c.questions); });
      aggRejected ??= { voted_online: 0, second_return: 0, late: 0 };
      for (const k of Object.keys(aggRejected)) aggRejected[k] += sr.paper_rejected[k];
    }
    finish(sr, reg);
    return sr;
  });
  const agg = { id: 'all', name: 'All workplaces (aggregated)', entitled: 0, votes_cast: 0, turnout: '' };
  for (const s of r.styles) { agg.entitled += s.entitled; agg.votes_cast += s.votes_cast; }
  agg.questions = m.questions.map((q, qi) => {
    const qr = { id: q.id, text: q.text, yes_no: false, yes: 0, no: 0, options: q.options.map((o) => ({ id: o.id, label: o.label, count: 0 })), spoilt: 0 };
    for (const s of r.styles) {
      const sq = s.questions[qi];
      sq.options.forEach((o, oi) => { qr.options[oi].count += o.count; });
      qr.yes_no = sq.yes_no;
      qr.yes += sq.yes;
      qr.no += sq.no;
      qr.spoilt = sq.spoilt < 0 || qr.spoilt < 0 ? -1 : qr.spoilt + sq.spoilt;
    }
    return qr;
  });
  if (aggChannels) agg.channels = aggChannels;
  if (aggRejected) agg.paper_rejected = aggRejected;
  finish(agg, reg);
  r.aggregate = agg;
  r.trustees = trustees;
  return r;
}

/** The check of a result member (report.fieldCheck). */
export function fieldCheck(key) {
  if (['votes_cast', 'count', 'yes', 'no', 'channels', 'channel', 'paper_rejected', 'voted_online', 'second_return', 'late'].includes(key)) return 'result.counts';
  if (['turnout', 'turnout_threshold_met', 'spoilt', 'majority_yes', 'support_threshold_met', 'supported', 'yes_no'].includes(key)) return 'result.derived';
  return 'result.particulars';
}

const show = (v) => (v === undefined || v === null ? 'nothing' : canonicalJSON(v));

/**
 * Every difference between the signed result and the recomputed one,
 * member by member (report's compare/diffTree): f(check, {path, claimed,
 * actual}). The election id, manifest hash and trustees are checked on
 * their own.
 */
export function compareResults(signed, got, f) {
  const strip = (r) => { const o = { ...r }; delete o.election_id; delete o.manifest_hash; delete o.trustees; return o; };
  const diff = (path, x, y) => {
    let key = path.length ? path[path.length - 1] : '';
    if (key.includes('[')) key = key.slice(0, key.indexOf('['));
    const report = () => f(fieldCheck(key), { path: path.join('.'), claimed: show(x), actual: show(y) });
    if (isObj(x)) {
      if (!isObj(y)) { report(); return; }
      const keys = [...new Set([...Object.keys(x), ...Object.keys(y)])].sort();
      for (const k of keys) diff([...path, k], x[k], y[k]);
    } else if (Array.isArray(x)) {
      if (!Array.isArray(y) || x.length !== y.length) { report(); return; }
      x.forEach((_, i) => {
        const p = path.slice();
        p[p.length - 1] = `${p[p.length - 1]}[${i}]`;
        diff(p, x[i], y[i]);
      });
    } else if (show(x) !== show(y)) report();
  };
  diff([], strip(signed), strip(got));
}
