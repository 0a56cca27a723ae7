// The member's voting journey (docs/protocol.md §4–6), in the browser:
// review → encrypt with proofs → tracker → blind → authorisation from
// issuance (with the session) → unblind → cast to the ledger with NO
// cookies → check the receipt → keep it. Every step is saved on this device
// first, so a dropped connection, a closed tab or a locked phone resumes
// where it stopped. The choices never leave the phone unencrypted.
const root = document.getElementById('vote');
const E = root.dataset.election;
const KEY = 'eballot:' + E;
const $ = (id) => document.getElementById(id);
let lib; // the crypto bundle, loaded on first use
let state = load();

function load() {
  try { return JSON.parse(localStorage.getItem(KEY)) || {}; } catch { return {}; }
}
function save(patch) {
  state = Object.assign({}, state, patch);
  try { localStorage.setItem(KEY, JSON.stringify(state)); } catch { /* private mode: carry on in memory */ }
}
function show(id) {
  for (const s of ['paper', 'review', 'audit-result', 'working', 'failed', 'receipt']) {
    const el = $(s);
    if (el) el.hidden = s !== id;
  }
  const h = $(id) && $(id).querySelector('h2[tabindex]');
  if (h) h.focus();
}
async function bundle() {
  if (!lib) lib = await import(root.dataset.bundle);
  return lib;
}

// The paper's questions in manifest order: choose questions
// (fieldset.question, radio buttons or tick boxes) and, on a union
// election, ranked contests (fieldset[data-ranking], ranking.js).
const questions = () => [...document.querySelectorAll('fieldset.question, fieldset[data-ranking]')];
const isRanked = (fs) => fs.hasAttribute('data-ranking');

// rankingOf reads a ranked contest's ranking from its selects (preference
// numbers per candidate; the ranking widget keeps them in step): candidate
// indices, most preferred first.
function rankingOf(fs) {
  return [...fs.querySelectorAll('li[data-candidate]')]
    .map((li) => ({ c: Number(li.dataset.candidate), p: Number(li.querySelector('select')?.value || 0) }))
    .filter((x) => x.p > 0).sort((a, b) => a.p - b.p || a.c - b.c).map((x) => x.c);
}

// choices: per question, from the form: one 0/1 list (choose) or the
// ranking (ranked; docs/protocol.md §4.2 version 2).
function readChoices() {
  const out = [];
  let blank = false;
  let tooMany = false;
  let tooFew = false;
  for (const fs of questions()) {
    if (isRanked(fs)) {
      const r = rankingOf(fs);
      if (r.length === 0) blank = true;
      if (r.length < Number(fs.dataset.min)) tooFew = true;
      if (r.length > Number(fs.dataset.max)) tooMany = true;
      out.push(r);
      continue;
    }
    const inputs = [...fs.querySelectorAll('input')];
    const sel = inputs.map((i) => (i.checked ? 1 : 0));
    const n = sel.reduce((a, b) => a + b, 0);
    if (n === 0) blank = true;
    if (n > Number(fs.dataset.max)) tooMany = true;
    out.push(sel);
  }
  return { choices: out, blank, tooMany, tooFew };
}

function review(ev) {
  ev.preventDefault();
  const { choices, blank, tooMany, tooFew } = readChoices();
  $('too-many').hidden = !tooMany;
  if ($('too-few')) $('too-few').hidden = !tooFew;
  if (tooMany || tooFew) return;
  const list = $('review-list');
  list.textContent = '';
  questions().forEach((fs, q) => {
    const dt = document.createElement('dt');
    dt.textContent = fs.querySelector('legend').textContent;
    const dd = document.createElement('dd');
    const labels = isRanked(fs)
      ? choices[q].map((c, i) => `${i + 1}. ${fs.querySelector(`li[data-candidate="${c}"] .ranking-name`).textContent}`)
      : [...fs.querySelectorAll('input')].filter((i) => i.checked).map((i) => fs.querySelector(`label[for="${i.id}"]`).textContent);
    dd.textContent = labels.length ? labels.join(', ') : '–';
    list.append(dt, dd);
  });
  $('review-blank').hidden = !blank;
  save({ choices });
  show('review');
}

// encryptFor encrypts the choices: a version-2 ballot when the manifest has
// a ranked question (the ranked bundle), else version 3 when it has a
// compact yes/no question (protocol 7), else version 1 (docs/protocol.md
// §4.2); encryptBallot picks 3 or 1 from the manifest.
function encryptFor(L, manifest, hash, style, choices) {
  if (manifest.questions.some((q) => q.method === 'ranked')) {
    return L.encodeBallotV2(L.encryptBallotV2(manifest, hash, style, choices).ballot);
  }
  return L.encodeBallot(L.encryptBallot(manifest, hash, style, choices).ballot);
}

// ready loads the bundle, the manifest (checked against its hash) and the
// style's issuer key once, and warms the crypto up; a failure (no signal)
// is retried on the next call.
let loading;
function ready() {
  if (!loading) {
    loading = (async () => {
      const L = await bundle();
      const { manifest, hash } = await manifestOf(L);
      const key = await L.importIssuerKey(manifest.styles[Number(root.dataset.style)].issuer_key);
      if (L.warmUp) await L.warmUp(manifest, key);
      return { L, manifest, hash, key };
    })();
    loading.catch(() => { loading = null; });
  }
  return loading;
}

async function manifestOf(L) {
  const res = await fetch(`/ledger/v1/${E}/manifest`, { credentials: 'omit' });
  if (!res.ok) throw Object.assign(new Error('manifest'), { code: 'generic' });
  const { manifest, hash } = await L.parseManifest(new Uint8Array(await res.arrayBuffer()));
  if (L.toHex(hash) !== root.dataset.manifestHash) throw Object.assign(new Error('manifest hash differs'), { code: 'refused' });
  return { manifest, hash };
}

// step marks the steps before name as done and name as current.
function step(name) {
  let before = true;
  for (const li of document.querySelectorAll('.steps li')) {
    if (li.dataset.step === name) before = false;
    li.classList.toggle('done', before);
    li.classList.toggle('current', li.dataset.step === name);
  }
}

async function postJSON(url, body, withSession) {
  let res;
  try {
    res = await fetch(url, {
      method: 'POST',
      credentials: withSession ? 'same-origin' : 'omit',
      headers: Object.assign({ 'Content-Type': 'application/json' }, withSession ? { 'X-CSRF-Token': root.dataset.csrf } : {}),
      body: JSON.stringify(body),
    });
  } catch {
    throw Object.assign(new Error('network'), { code: 'network' });
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const c = data.error;
    const code = ['not_open', 'already_authorised'].includes(c) ? c
      : ['not_signed_in', 'session_expired'].includes(c) ? 'not_signed_in' : res.status >= 500 ? 'generic' : 'refused';
    throw Object.assign(new Error(c || String(res.status)), { code });
  }
  return data;
}

// cast runs (or resumes) the journey from the saved state.
async function cast() {
  show('working');
  try {
    const { L, manifest, hash, key } = await ready().catch((e) => { throw Object.assign(e, { code: e.code || 'network' }); });
    const style = Number(root.dataset.style);
    if (!state.ballot) {
      step('encrypt');
      const bytes = encryptFor(L, manifest, hash, style, state.choices);
      const T = L.tracker(hash, bytes);
      const { blindedMsg, state: bs } = await L.blindTracker(key, T);
      save({ ballot: L.toBase64(bytes), tracker: L.toHex(T), blinded: L.toBase64(blindedMsg),
        prepared: L.toBase64(bs.prepared), inv: L.toBase64(bs.inv) });
    }
    if (!state.authorisation) {
      step('authorise');
      let r;
      try {
        r = await postJSON(`/vote/${E}/authorise`, { blinded: state.blinded }, true);
      } catch (e) {
        // Signed out (the session expired): nothing was issued or recorded.
        // Throw the unauthorised encryption away and keep the choices on
        // this phone, so the paper comes back filled in after signing in.
        if (e.code === 'not_signed_in' && state.choices) save(Object.assign({ resume: true }, UNSENT));
        throw e;
      }
      const auth = await L.finalizeAuthorisation(key, { prepared: L.fromBase64(state.prepared), inv: L.fromBase64(state.inv) }, L.fromBase64(r.blind_signature));
      // The vote is now bound to cast: forget the choices.
      save({ authorisation: L.toBase64(auth), choices: null, blinded: null, prepared: null, inv: null });
    }
    if (!state.receipt) {
      step('cast');
      const rc = await postJSON(`/ledger/v1/${E}/cast`, { ballot: state.ballot, authorisation: state.authorisation }, false);
      step('check');
      const r = L.parseReceipt(JSON.stringify(rc));
      const entry = L.entryRecord(L.fromHex(state.tracker), L.fromBase64(state.authorisation), L.fromBase64(state.ballot));
      L.verifyReceipt(r, manifest.log_key, entry);
      save({ receipt: rc });
    }
    showReceipt();
  } catch (e) {
    root.dataset.failure = String(e && e.message); // for tests and support: no vote content in it
    fail(e.code || 'generic');
  }
}

// UNSENT clears an encryption that was never authorised.
const UNSENT = { ballot: null, tracker: null, blinded: null, prepared: null, inv: null };

// restore ticks the saved, unsent choices on the paper and shows the
// review again: the member signed in again after their session expired.
function restore(paper) {
  const qs = questions();
  if (!Array.isArray(state.choices) || state.choices.length !== qs.length) return false;
  qs.forEach((fs, q) => {
    if (!isRanked(fs)) {
      fs.querySelectorAll('input').forEach((i, o) => { i.checked = state.choices[q][o] === 1; });
      return;
    }
    if (fs.rankingWidget) return fs.rankingWidget.set(state.choices[q]);
    for (const li of fs.querySelectorAll('li[data-candidate]')) {
      const p = state.choices[q].indexOf(Number(li.dataset.candidate));
      li.querySelector('select').value = p < 0 ? '' : String(p + 1);
    }
  });
  review({ preventDefault() {} });
  $('resumed').hidden = false;
  save({ resume: null }); // once: a later visit shows the paper as usual
  return true;
}

function fail(code) {
  for (const p of $('failed').querySelectorAll('[data-error]')) p.hidden = p.dataset.error !== code;
  $('retry').hidden = code === 'not_signed_in'; // sending again cannot help: signing in can
  show('failed');
}

function showReceipt() {
  const rc = state.receipt;
  $('receipt-code').textContent = rc.short_code;
  // People count from 1; the ledger's index (from 0) is the technical detail.
  $('receipt-index').textContent = String(rc.index + 1);
  $('receipt-tech').textContent = $('receipt-tech').dataset.text.replace('{index}', String(rc.index));
  const blob = new Blob([JSON.stringify(rc, null, 2)], { type: 'application/json' });
  $('receipt-download').href = URL.createObjectURL(blob);
  show('receipt');
}

// auditOf encrypts the choices and reveals the encryption's secrets
// (docs/protocol.md §4.4): {ok, record}, ok when the revealed secrets
// reproduce the ballot as encoded. A version-2 ballot (a ranked question)
// is carried as the hex of its encoding, with the ranked openings.
function auditOf(L, manifest, hash, style, choices) {
  if (manifest.questions.some((q) => q.method === 'ranked')) {
    const { ballot, nonces, openings } = L.encryptBallotV2(manifest, hash, style, choices);
    const bytes = L.encodeBallotV2(ballot);
    const audit = L.auditRecordV2(choices, nonces, openings);
    const ok = L.checkAuditV2(manifest, hash, L.decodeBallotV2(manifest, hash, bytes), audit);
    return { ok, record: { election_id: E, manifest_hash: L.toHex(hash), ballot: L.toHex(bytes), audit } };
  }
  const { ballot, nonces } = L.encryptBallot(manifest, hash, style, choices);
  const ok = L.checkAudit(manifest, ballot, choices, nonces);
  return { ok, record: { election_id: E, manifest_hash: L.toHex(hash), ballot: L.ballotToJSON(ballot), audit: L.auditRecord(choices, nonces) } };
}

// Benaloh audit: encrypt, reveal the nonces, check them here, throw away.
async function audit() {
  try {
    const { L, manifest, hash } = await ready();
    const style = Number(root.dataset.style);
    const { ok, record } = auditOf(L, manifest, hash, style, state.choices);
    $('audit-ok').hidden = !ok;
    $('audit-bad').hidden = ok;
    $('audit-list').replaceChildren(...$('review-list').cloneNode(true).childNodes);
    const text = JSON.stringify(record, null, 2);
    $('audit-download').href = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
    // The public verifier page reads it from here (same site) or from the file.
    try { localStorage.setItem('eballot-audit:' + E, text); } catch { /* private mode: the file still works */ }
    show('audit-result');
  } catch (e) {
    fail(e.code || 'generic');
  }
}

function start() {
  const paper = $('paper');
  $('retry').addEventListener('click', cast);
  if (state.receipt) return showReceipt();
  if (root.dataset.marked === 'online' && !state.authorisation) {
    if (!paper) $('no-receipt').hidden = false;
    return;
  }
  if (state.ballot && state.authorisation) return cast(); // resume an interrupted cast
  if (!paper) return;
  if (state.resume && state.choices && !state.ballot) restore(paper);
  // Load and warm the crypto while the member reads the paper, so the
  // first encryption is fast when they confirm.
  ready().catch(() => {});
  paper.addEventListener('submit', review);
  $('change').addEventListener('click', () => show('paper'));
  $('confirm').addEventListener('click', cast);
  $('audit').addEventListener('click', audit);
  $('audit-back').addEventListener('click', () => show('paper'));
  if (state.ballot) fail('network'); // encrypted but not yet cast: offer to resume
}

start();
