// The paper section of an export (docs/protocol.md §10): signed batches of
// paper votes keyed twice and the signed close of the paper count. The
// twin of Go's crypto/paper Counter: the same checks, in the same order,
// with the same names (shared vector crypto/testdata/paper_v1.json).
import { sha256 } from '@noble/hashes/sha2.js';
import { toBase64, toHex, utf8 } from './bytes.mjs';
import { canonicalJSON, parseStrictJSON } from './canonical.mjs';
import { openNote } from './note.mjs';

export const ZERO_HASH = '0'.repeat(64);
const MAX_ENTRY = 256 << 10;
const MAX_PAPERS = 2 ** 30;
const ID = /^[A-Za-z0-9._-]{1,64}$/;
const HEX64 = /^[0-9a-f]{64}$/;

/** The paper check names of protocol §8.2 (group paper), in its order. */
export const PAPER_CHECKS = ['batch.encoding', 'batch.signature', 'batch.election', 'batch.chain', 'batch.duplicate_id',
  'batch.style', 'batch.keyers', 'batch.keyings_agree', 'batch.totals', 'batch.after_close',
  'paper_close.encoding', 'paper_close.signature', 'paper_close.chain', 'paper_close.styles', 'counts.paper_returned'];

const malformed = (why) => { throw new Error(`eballot: ${why}`); };
const isCount = (n, max = Number.MAX_SAFE_INTEGER) => Number.isSafeInteger(n) && n >= 0 && n <= max;
const keysAre = (o, keys) => o !== null && typeof o === 'object' && !Array.isArray(o)
  && JSON.stringify(Object.keys(o).sort()) === JSON.stringify([...keys].sort());

/** Decodes canonical JSON bytes: strict, and the bytes must be the canonical form. */
function canonicalObject(bytes) {
  if (bytes.length > MAX_ENTRY) malformed(`larger than ${MAX_ENTRY} bytes`);
  let text;
  try { text = new TextDecoder('utf-8', { fatal: true }).decode(bytes); } catch { malformed('not UTF-8'); }
  const v = parseStrictJSON(text);
  if (canonicalJSON(v) !== text) malformed('not in canonical form');
  return v;
}

function checkTotalsForm(t) {
  if (!keysAre(t, ['papers', 'questions']) || !isCount(t.papers, MAX_PAPERS) || !Array.isArray(t.questions) || t.questions.length > 32) malformed('totals');
  for (const q of t.questions) {
    if (!keysAre(q, ['blank', 'options', 'spoilt']) || !Array.isArray(q.options) || q.options.length > 64) malformed('question totals');
    if (!isCount(q.blank) || !isCount(q.spoilt) || !q.options.every((n) => isCount(n))) malformed('counts must be ≥ 0');
  }
}

/** parseBatch: Go's paper.ParseBatch (form only). */
export function parseBatch(bytes) {
  const b = canonicalObject(bytes);
  if (!keysAre(b, ['batch_id', 'box', 'channel', 'election_id', 'keyings', 'prev', 'seq', 'style'])) malformed('batch members');
  if (typeof b.batch_id !== 'string' || !ID.test(b.batch_id)) malformed('batch_id');
  if (typeof b.election_id !== 'string' || !ID.test(b.election_id)) malformed('election_id');
  if (typeof b.prev !== 'string' || !HEX64.test(b.prev)) malformed('prev');
  if (b.channel === 'postal') { if (b.box !== '') malformed('a postal batch has no box'); } else if (b.channel === 'workplace') { if (typeof b.box !== 'string' || !ID.test(b.box)) malformed('box'); } else malformed('channel');
  if (!isCount(b.seq) || !isCount(b.style, 65535)) malformed('seq and style');
  if (!Array.isArray(b.keyings) || b.keyings.length !== 2) malformed('a batch has exactly two keyings');
  for (const k of b.keyings) {
    if (!keysAre(k, ['keyer', 'totals']) || typeof k.keyer !== 'string' || !ID.test(k.keyer)) malformed('keyer');
    checkTotalsForm(k.totals);
  }
  return b;
}

/** parseClose: Go's paper.ParseClose (form only). */
export function parseClose(bytes) {
  const c = canonicalObject(bytes);
  if (!keysAre(c, ['batches', 'election_id', 'head', 'styles'])) malformed('close members');
  if (typeof c.election_id !== 'string' || !ID.test(c.election_id)) malformed('election_id');
  if (typeof c.head !== 'string' || !HEX64.test(c.head)) malformed('head');
  if (!isCount(c.batches) || !Array.isArray(c.styles) || c.styles.length > 1024) malformed('batches and styles');
  for (const s of c.styles) {
    if (!keysAre(s, ['late', 'postal', 'second_return', 'style', 'voted_online', 'workplace'])) malformed('style returns');
    if (![s.late, s.postal, s.second_return, s.voted_online, s.workplace].every((n) => isCount(n))) malformed('counts must be ≥ 0');
    if (typeof s.style !== 'string' || s.style === '' || utf8(s.style).length > 512) malformed('style id');
  }
  return c;
}

const b64hash = (bytes) => toBase64(sha256(bytes));
const origin = (e) => `eballot-paper/${e}`;
const batchText = (e, seq, bytes) => `${origin(e)}\nbatch ${seq}\n${b64hash(bytes)}\n`;
const closeText = (e, n, bytes) => `${origin(e)}\nclose ${n}\n${b64hash(bytes)}\n`;

/** The first difference of two keyings' totals, or '' (Go's paper.Difference). */
export function difference(a, b) {
  if (a.papers !== b.papers) return `papers: ${a.papers} and ${b.papers}`;
  if (a.questions.length !== b.questions.length) return `number of questions: ${a.questions.length} and ${b.questions.length}`;
  for (let i = 0; i < a.questions.length; i++) {
    const qa = a.questions[i];
    const qb = b.questions[i];
    if (qa.options.length !== qb.options.length) return `question ${i + 1}: number of options: ${qa.options.length} and ${qb.options.length}`;
    for (let j = 0; j < qa.options.length; j++) if (qa.options[j] !== qb.options[j]) return `question ${i + 1}, option ${j + 1}: ${qa.options[j]} and ${qb.options[j]}`;
    if (qa.blank !== qb.blank) return `question ${i + 1}, blank: ${qa.blank} and ${qb.blank}`;
    if (qa.spoilt !== qb.spoilt) return `question ${i + 1}, spoilt: ${qa.spoilt} and ${qb.spoilt}`;
  }
  return '';
}

const zeroTotals = (manifest) => ({ papers: 0, questions: manifest.questions.map((q) => ({ blank: 0, options: q.options.map(() => 0), spoilt: 0 })) });

/**
 * Checks the paper lines of an export in order and sums the valid batches
 * per style and channel (Go's paper.Counter). batch() and close() return
 * failures {check, seq, style, detail}; finish() returns {closed, failures}.
 */
export class PaperCounter {
  constructor(manifest) {
    this.m = manifest;
    this.prev = ZERO_HASH;
    this.ids = new Set();
    this.closed = null;
    this.saw = false;
    this.batches = 0;
    this.counted = 0;
    this.sums = manifest.styles.map(() => [zeroTotals(manifest), zeroTotals(manifest)]);
  }

  open(note, want) {
    const text = openNote(note, this.m.log_key);
    // One signature, by the log key (note.mjs ignores others: refuse them).
    const sigLines = note.slice(note.lastIndexOf('\n\n') + 2).split('\n').filter((l) => l !== '');
    if (sigLines.length !== 1) malformed('the note must carry exactly one signature, by the log key');
    if (text !== want) malformed('the signed text does not name these bytes at this position');
  }

  batch(bytes, note) {
    const seq = this.batches++;
    const f = (check, detail) => ({ check, seq, style: -1, detail });
    const link = toHex(sha256(bytes));
    const prev = this.prev;
    this.prev = link;
    if (this.closed) return [f('batch.after_close', 'a batch after the close of the paper count')];
    let b;
    try { b = parseBatch(bytes); } catch (e) { return [f('batch.encoding', e.message)]; }
    try { this.open(note, batchText(this.m.election_id, seq, bytes)); } catch (e) { return [f('batch.signature', e.message)]; }
    const out = [];
    if (b.election_id !== this.m.election_id) out.push(f('batch.election', b.election_id));
    if (b.seq !== seq || b.prev !== prev) out.push(f('batch.chain', `seq ${b.seq}, it is batch ${seq}`));
    if (this.ids.has(b.batch_id)) out.push(f('batch.duplicate_id', b.batch_id));
    this.ids.add(b.batch_id);
    if (b.style >= this.m.styles.length) out.push(f('batch.style', String(b.style)));
    if (b.keyings[0].keyer === b.keyings[1].keyer) out.push(f('batch.keyers', b.keyings[0].keyer));
    const t = b.keyings[0].totals;
    const d = difference(t, b.keyings[1].totals);
    if (d) out.push(f('batch.keyings_agree', d));
    const shape = { papers: 0, questions: t.questions.map((q) => ({ blank: 0, options: q.options.map(() => 0), spoilt: 0 })) };
    const ds = difference(shape, zeroTotals(this.m));
    if (ds) out.push(f('batch.totals', ds));
    else {
      const q = t.questions.findIndex((x) => x.blank + x.spoilt + x.options.reduce((a, n) => a + n, 0) !== t.papers);
      if (q >= 0) out.push(f('batch.totals', `question ${q + 1}'s counts do not add up to the ${t.papers} papers`));
    }
    if (out.length) return out;
    const dst = this.sums[b.style][b.channel === 'workplace' ? 1 : 0];
    dst.papers += t.papers;
    t.questions.forEach((q, i) => {
      dst.questions[i].blank += q.blank;
      dst.questions[i].spoilt += q.spoilt;
      q.options.forEach((n, j) => { dst.questions[i].options[j] += n; });
    });
    this.counted++;
    return [];
  }

  close(bytes, note) {
    const f = (check, detail, style = -1) => ({ check, seq: -1, style, detail });
    if (this.saw) return [f('paper_close.encoding', 'a second close of the paper count')];
    this.saw = true;
    let c;
    try { c = parseClose(bytes); } catch (e) { return [f('paper_close.encoding', e.message)]; }
    try { this.open(note, closeText(this.m.election_id, this.batches, bytes)); } catch (e) { return [f('paper_close.signature', e.message)]; }
    this.closed = c;
    const out = [];
    if (c.election_id !== this.m.election_id || c.batches !== this.batches || c.head !== this.prev) out.push(f('paper_close.chain', `${c.batches} batches`));
    if (c.styles.length !== this.m.styles.length) {
      out.push(f('paper_close.styles', `${c.styles.length} styles`));
      return out;
    }
    c.styles.forEach((s, i) => { if (s.style !== this.m.styles[i].id) out.push(f('paper_close.styles', s.style, i)); });
    return out;
  }

  finish() {
    if (!this.closed || this.closed.styles.length !== this.sums.length) return { closed: this.saw, failures: [] };
    const failures = [];
    this.closed.styles.forEach((s, i) => {
      const [p, w] = this.sums[i];
      if (p.papers > s.postal) failures.push({ check: 'counts.paper_returned', seq: -1, style: i, detail: `${p.papers} postal papers counted, ${s.postal} returned` });
      if (w.papers > s.workplace) failures.push({ check: 'counts.paper_returned', seq: -1, style: i, detail: `${w.papers} workplace papers counted, ${s.workplace} issued` });
    });
    return { closed: true, failures };
  }

  /** The valid batches' totals of a style and channel. */
  totals(style, channel) { return this.sums[style][channel === 'workplace' ? 1 : 0]; }
}
