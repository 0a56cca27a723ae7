// Public Benaloh audit verifier (docs/protocol.md §4.4): given an audit
// record (the encrypted ballot, the choices and the revealed nonces), it
// re-encrypts every choice with its nonce under the election key from the
// manifest the board publishes (a ranked question's ranking with its
// openings, §9.1), checks every proof, and shows what the ballot holds.
// An audited ballot is never cast.
const root = document.getElementById('audit-page');
const E = root.dataset.election;
const $ = (id) => document.getElementById(id);

function show(id) {
  for (const s of ['audit-ok', 'audit-bad', 'audit-none']) $(s).hidden = s !== id;
  const h = $(id).querySelector('h2');
  if (h) h.focus();
}

async function check(text) {
  const rec = JSON.parse(text);
  // A version-2 ballot (an election with a ranked question) is carried as
  // the hex of its encoding: the ranked bundle decodes it (§4.2, §4.4).
  const v2 = typeof rec.ballot === 'string';
  const L = await import(v2 ? root.dataset.rankedBundle : root.dataset.bundle);
  const res = await fetch(`/ledger/v1/${E}/manifest`, { credentials: 'omit' });
  const { manifest, hash } = await L.parseManifest(new Uint8Array(await res.arrayBuffer()));
  if (rec.election_id !== E || rec.manifest_hash !== L.toHex(hash)) throw new Error('another election');
  if (v2) {
    const ballot = L.decodeBallotV2(manifest, hash, L.fromHex(rec.ballot));
    if (L.verifyBallotV2(manifest, hash, ballot)) throw new Error('proofs');
    if (!L.checkAuditV2(manifest, hash, ballot, rec.audit)) throw new Error('nonces');
  } else {
    const ballot = L.ballotFromJSON(manifest, hash, JSON.stringify(rec.ballot));
    if (!L.verifyBallot(manifest, hash, ballot)) throw new Error('proofs');
    if (!L.checkAudit(manifest, ballot, rec.audit.choices, rec.audit.nonces)) throw new Error('nonces');
  }
  const list = $('audit-choices');
  list.textContent = '';
  manifest.questions.forEach((q, qi) => {
    const dt = document.createElement('dt');
    dt.textContent = q.text;
    const dd = document.createElement('dd');
    // A ranked question: the candidates in order of preference, numbered.
    const chosen = q.method === 'ranked'
      ? rec.audit.choices[qi].map((c, i) => `${i + 1}. ${q.options[c].label}`)
      : q.options.filter((_, oi) => rec.audit.choices[qi][oi] === 1).map((o) => o.label);
    dd.textContent = chosen.length ? chosen.join(', ') : '–';
    list.append(dt, dd);
  });
  show('audit-ok');
}

async function run(text) {
  try {
    await check(text);
  } catch {
    show('audit-bad');
  }
}

$('audit-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const f = $('audit-file').files[0];
  if (f) run(await f.text());
});

let saved = null;
try { saved = localStorage.getItem('eballot-audit:' + E); } catch { /* no storage */ }
if (saved) run(saved); else show('audit-none');
