// Election manifest parsing and validation (docs/protocol.md §3), versions
// 1 and 2, as crypto/manifest Parse: strict canonical JSON, exact field
// set, bounds.
import { sha256 } from '@noble/hashes/sha2.js';
import { fromBase64, fromHex, toHex, utf8 } from './bytes.mjs';
import { canonicalJSON, parseStrictJSON } from './canonical.mjs';
import { decodeElement } from './group.mjs';
import { parseVerifierKey } from './note.mjs';

export const KINDS = ['industrial_action', 'union_election', 'political_fund', 'merger', 'recognition', 'other'];
const ID = /^[a-z0-9-]{1,64}$/;
const MAX_SIZE = 1 << 20;
const MAX_TEXT = 64 << 10;
const MAX_SHORT = 512;

const bad = (field, why) => { throw new Error(`eballot: manifest ${field}: ${why}`); };

function fields(o, keys, where, optional = []) {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) bad(where, 'must be an object');
  const ks = Object.keys(o);
  for (const k of ks) if (!keys.includes(k) && !optional.includes(k)) bad(where, `unknown field ${k}`);
  for (const k of keys) if (!ks.includes(k)) bad(where, `missing field ${k}`);
}
const obj = (v, f) => { if (v === null || typeof v !== 'object' || Array.isArray(v)) bad(f, 'must be an object'); return v; };

/** Languages a manifest's translations may have (§3.1). */
export const LANGUAGES = ['cy'];
const int = (v, f) => { if (!Number.isSafeInteger(v)) bad(f, 'must be an integer'); return v; };
const str = (v, f) => { if (typeof v !== 'string') bad(f, 'must be a string'); return v; };
const arr = (v, f) => { if (!Array.isArray(v)) bad(f, 'must be an array'); return v; };
function text(v, f, max) {
  const n = utf8(str(v, f)).length;
  if (n === 0 || n > max) bad(f, `length ${n} not in 1..${max}`);
}
function time(v, f) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/.exec(str(v, f));
  const [y, mo, d, h, mi, s] = m ? m.slice(1).map(Number) : [];
  const dt = new Date(0);
  if (m) dt.setUTCFullYear(y, mo - 1, d);
  if (!m || dt.getUTCFullYear() !== y || dt.getUTCMonth() !== mo - 1 || dt.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
    bad(f, 'not RFC 3339 UTC with seconds precision');
  }
  return v; // fixed-width: string order is time order
}
function point(v, f) {
  try { decodeElement(fromHex(str(v, f), 32)); } catch (e) { bad(f, e.message); }
}
function logKey(s) {
  // One accepted form (docs/protocol.md §6.1), as crypto/internal/snote.
  try { parseVerifierKey(s); } catch (e) { bad('log_key', e.message.replace(/^eballot: /, '')); }
}
async function issuerKey(s, f) {
  let der;
  try { der = fromBase64(s); } catch { bad(f, 'not canonical padded standard base64'); }
  let key;
  try { key = await crypto.subtle.importKey('spki', der, { name: 'RSA-PSS', hash: 'SHA-384' }, true, ['verify']); } catch { bad(f, 'not a DER SubjectPublicKeyInfo'); }
  const e = key.algorithm.publicExponent;
  if (key.algorithm.modulusLength !== 2048 || toHex(e.subarray(e.findIndex((x) => x !== 0))) !== '010001') bad(f, 'not an RSA-2048 key with e = 65537');
  const re = toHex(new Uint8Array(await crypto.subtle.exportKey('spki', key)));
  if (re !== toHex(der)) bad(f, 'not canonical DER');
}

/** Manifest versions (§3): 1, and 2 with ranked and compact questions and election addresses. */
export const VERSIONS = [1, 2];
/** STV rules of a ranked question (§9.7). */
export const RULES = ['ers97', 'meek'];
const ADDRESS = /^[0-9a-f]{64}$/;

/** The size of a crypto/ranked ballot of n candidates, min..max preferences (§9.1). */
export function rankedSize(n, min, max) {
  let s = 39 + 128 * n + 256 * (n - 1) + 8 + 32 * (5 * n + 9);
  for (let j = 0; j < n; j++) s += (j < min || j >= max ? 1 : 2) * 128;
  return s;
}

/** The exact size of an encoded ballot for this manifest (§4.2). */
export function ballotSize(m) {
  return m.questions.reduce((n, q) => n + (q.method === 'ranked'
    ? rankedSize(q.options.length, q.min, q.max)
    : q.method === 'compact'
      ? 64 + (3 - q.min) * 128
      : 2 + q.options.length * (64 + 256) + (q.max - q.min + 1) * 128), 37);
}

// A question's version-2 fields (§3, §9), as crypto/manifest checkMethod.
function method(m, q, f) {
  if (!('method' in q)) {
    if ('seats' in q || 'rule' in q) bad(f, 'seats and rule are for ranked questions only');
    return;
  }
  if (q.method !== 'ranked' && q.method !== 'compact') bad(f + '.method', `unknown method ${JSON.stringify(q.method)} (known: "ranked", "compact")`);
  if (m.version < 2) bad(f + '.method', 'needs manifest version 2');
  if (q.method === 'compact') {
    // Protocol 7: a yes/no question carried as one ciphertext (§4.2 version 3).
    if ('seats' in q || 'rule' in q) bad(f, 'seats and rule are for ranked questions only');
    if (q.options.length !== 2 || q.max !== 1) bad(f + '.method', 'a compact question has exactly 2 options and max 1');
    // Its sum yes + B·no decodes only below B ballots a style (§4.2 version 3).
    for (const s of Array.isArray(m.styles) ? m.styles : []) {
      if (typeof s?.entitled === 'number' && s.entitled >= 2 ** 24) bad(f + '.method', `style ${JSON.stringify(s.id)} has ${s.entitled} members entitled: a compact question allows at most ${2 ** 24 - 1}`);
    }
    return;
  }
  if (m.kind !== 'union_election') bad(f + '.method', 'ranked questions are for union_election ballots only');
  const seats = int(q.seats, f + '.seats');
  if (seats < 1 || seats >= q.options.length) bad(f + '.seats', `need 1 ≤ seats < options (${q.options.length})`);
  if (!RULES.includes(q.rule)) bad(f + '.rule', `unknown rule ${JSON.stringify(q.rule)} (known: ${RULES.join(', ')})`);
}

/** Synchronous checks of a parsed manifest object (all but the issuer keys' DER). */
export function validateManifestShape(m) {
  const top = ['version', 'election_id', 'kind', 'title', 'opens_at', 'closes_at', 'texts', 'questions', 'styles', 'trustees', 'log_key'];
  // regime: absent (never null) unless stated; required for industrial action.
  fields(m, m !== null && typeof m === 'object' && Object.hasOwn(m, 'regime') ? [...top, 'regime'] : top, 'manifest', ['translations', 'independent_person']);
  if (!VERSIONS.includes(int(m.version, 'version'))) bad('version', 'must be 1 or 2');
  if (!ID.test(str(m.election_id, 'election_id'))) bad('election_id', 'must match [a-z0-9-]{1,64}');
  if (!KINDS.includes(str(m.kind, 'kind'))) bad('kind', `unknown kind ${m.kind}`);
  text(m.title, 'title', MAX_SHORT);
  const o = time(m.opens_at, 'opens_at');
  const c = time(m.closes_at, 'closes_at');
  if (!(o < c)) bad('closes_at', 'not after opens_at');
  if (m.texts === null || typeof m.texts !== 'object' || Array.isArray(m.texts)) bad('texts', 'must be an object');
  const tk = Object.keys(m.texts);
  if (tk.length > 64) bad('texts', 'more than 64');
  for (const k of tk) { text(k, 'texts key', MAX_SHORT); text(m.texts[k], `texts.${k}`, MAX_TEXT); }
  const qs = arr(m.questions, 'questions');
  if (qs.length < 1 || qs.length > 32) bad('questions', `count ${qs.length} not in 1..32`);
  const qids = new Set();
  qs.forEach((q, i) => {
    const f = `questions[${i}]`;
    fields(q, ['id', 'text', 'options', 'min', 'max'], f, ['method', 'seats', 'rule']);
    if (!ID.test(str(q.id, f + '.id')) || qids.has(q.id)) bad(f + '.id', 'must match [a-z0-9-]{1,64} and be unique');
    qids.add(q.id);
    text(q.text, f + '.text', MAX_TEXT);
    const ops = arr(q.options, f + '.options');
    if (ops.length < 2 || ops.length > 64) bad(f + '.options', `count ${ops.length} not in 2..64`);
    const oids = new Set();
    ops.forEach((op, j) => {
      const g = `${f}.options[${j}]`;
      fields(op, ['id', 'label'], g, ['address']);
      if (!ID.test(str(op.id, g + '.id')) || oids.has(op.id)) bad(g + '.id', 'must match [a-z0-9-]{1,64} and be unique');
      oids.add(op.id);
      text(op.label, g + '.label', MAX_SHORT);
      if ('address' in op) {
        // SHA-256 of the candidate's election address (s.48), version 2.
        if (m.version < 2) bad(g + '.address', 'needs manifest version 2');
        if (!ADDRESS.test(str(op.address, g + '.address'))) bad(g + '.address', 'not 64 lowercase hex digits');
      }
    });
    const min = int(q.min, f + '.min');
    const max = int(q.max, f + '.max');
    if (min < 0 || min > max || max > ops.length || max < 1) bad(f, 'need 0 ≤ min ≤ max ≤ options and max ≥ 1');
    method(m, q, f);
  });
  if (ballotSize(m) > 64 << 10) bad('questions', 'encrypted ballot would exceed 65536 bytes');
  const ss = arr(m.styles, 'styles');
  if (ss.length < 1 || ss.length > 1024) bad('styles', `count ${ss.length} not in 1..1024`);
  const sids = new Set();
  ss.forEach((s, i) => {
    const f = `styles[${i}]`;
    fields(s, ['id', 'name', 'issuer_key', 'entitled'], f);
    if (!ID.test(str(s.id, f + '.id')) || sids.has(s.id)) bad(f + '.id', 'must match [a-z0-9-]{1,64} and be unique');
    sids.add(s.id);
    text(s.name, f + '.name', MAX_SHORT);
    const e = int(s.entitled, f + '.entitled');
    if (e < 0 || e > 2 ** 40) bad(f + '.entitled', 'not in 0..2^40');
    str(s.issuer_key, f + '.issuer_key');
  });
  const t = m.trustees;
  fields(t, ['threshold', 'election_key', 'public_keys'], 'trustees');
  const pks = arr(t.public_keys, 'trustees.public_keys');
  const th = int(t.threshold, 'trustees.threshold');
  if (pks.length < 1 || pks.length > 32 || th < 1 || th > pks.length) bad('trustees', 'need 1 ≤ threshold ≤ len(public_keys) ≤ 32');
  point(t.election_key, 'trustees.election_key');
  pks.forEach((k, i) => {
    point(k, `trustees.public_keys[${i}]`);
    // Each trustee has its own share: a repeated key is a malformed ceremony.
    if (pks.indexOf(k) < i) bad(`trustees.public_keys[${i}]`, "repeats an earlier trustee's key");
  });
  logKey(str(m.log_key, 'log_key'));
  if ('translations' in m) translations(m);
  if ('independent_person' in m) independentPerson(m);
  if (!Object.hasOwn(m, 'regime')) {
    if (m.kind === 'industrial_action') bad('regime', 'required for an industrial_action ballot');
    return m;
  }
  const r = m.regime;
  fields(r, ['id', 'name', 'turnout_threshold', 'support_threshold', 'mandate_months', 'code_of_practice'], 'regime');
  if (!ID.test(str(r.id, 'regime.id'))) bad('regime.id', 'must match [a-z0-9-]{1,64}');
  text(r.name, 'regime.name', MAX_SHORT);
  text(r.code_of_practice, 'regime.code_of_practice', MAX_SHORT);
  for (const k of ['turnout_threshold', 'support_threshold']) if (typeof r[k] !== 'boolean') bad(`regime.${k}`, 'must be a boolean');
  const mm = int(r.mandate_months, 'regime.mandate_months');
  if (mm < 0 || mm > 24) bad('regime.mandate_months', 'not in 0..24');
  return m;
}

/** Kinds of ballot with an independent person (TULRCA s.51A, s.77A, s.100D). */
export const INDEPENDENT_PERSON_KINDS = ['union_election', 'political_fund', 'merger'];

// independent_person (protocol 7), as crypto/manifest
// validateIndependentPerson: {name, trustee}, omitted when absent (never
// null); trustee 0..len(public_keys), 0 when their share is not required.
function independentPerson(m) {
  const ip = m.independent_person;
  fields(ip, ['name', 'trustee'], 'independent_person');
  if (!INDEPENDENT_PERSON_KINDS.includes(m.kind)) bad('independent_person', `only for a ballot of kind ${INDEPENDENT_PERSON_KINDS.join(', ')} (s.51A, s.77A, s.100D)`);
  text(ip.name, 'independent_person.name', MAX_SHORT);
  const t = int(ip.trustee, 'independent_person.trustee');
  if (t < 0 || t > m.trustees.public_keys.length) bad('independent_person.trustee', `not in 0..${m.trustees.public_keys.length} (the trustees)`);
}

// §3.1, as crypto/manifest validateTranslations: omitted when empty; a
// known language; a title; texts only for keys of texts; every question
// and option, in order, with the manifest's ids.
function translations(m) {
  const ls = Object.keys(obj(m.translations, 'translations'));
  if (ls.length === 0) bad('translations', 'omitted when empty');
  for (const l of ls) {
    const f = `translations.${l}`;
    if (!LANGUAGES.includes(l)) bad(f, `unknown language (known: ${LANGUAGES.join(', ')})`);
    const t = m.translations[l];
    fields(t, ['title', 'texts', 'questions'], f);
    text(t.title, f + '.title', MAX_SHORT);
    for (const k of Object.keys(obj(t.texts, f + '.texts'))) {
      if (!Object.hasOwn(m.texts, k)) bad(f + '.texts', `key ${JSON.stringify(k)} is not in texts`);
      text(t.texts[k], `${f}.texts.${k}`, MAX_TEXT);
    }
    const qs = arr(t.questions, f + '.questions');
    if (qs.length !== m.questions.length) bad(f + '.questions', `count ${qs.length}, the manifest has ${m.questions.length}`);
    qs.forEach((q, i) => {
      const g = `${f}.questions[${i}]`;
      fields(q, ['id', 'text', 'options'], g);
      if (q.id !== m.questions[i].id) bad(g + '.id', `not the id of questions[${i}]`);
      text(q.text, g + '.text', MAX_TEXT);
      const ops = arr(q.options, g + '.options');
      if (ops.length !== m.questions[i].options.length) bad(g + '.options', `count ${ops.length}, the question has ${m.questions[i].options.length}`);
      ops.forEach((op, j) => {
        const h = `${g}.options[${j}]`;
        fields(op, ['id', 'label'], h);
        if (op.id !== m.questions[i].options[j].id) bad(h + '.id', `not the id of the question's option ${j}`);
        text(op.label, h + '.label', MAX_SHORT);
      });
    });
  }
}

/**
 * Parses and validates a manifest (JSON text or UTF-8 bytes) as Go's
 * manifest.Parse. Returns {manifest, canonical, hash}: the object, its
 * canonical JSON and manifest_hash = SHA-256(canonical).
 */
export async function parseManifest(input) {
  const n = typeof input === 'string' ? utf8(input).length : input.length;
  if (n > MAX_SIZE) bad('size', 'larger than 1 MiB');
  const m = parseStrictJSON(input);
  validateManifestShape(m);
  for (let i = 0; i < m.styles.length; i++) await issuerKey(m.styles[i].issuer_key, `styles[${i}].issuer_key`);
  const canonical = canonicalJSON(m);
  return { manifest: m, canonical, hash: sha256(utf8(canonical)) };
}
