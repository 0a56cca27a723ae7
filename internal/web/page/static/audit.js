// Public Benaloh audit verifier (docs/protocol.md §4.4): given an audit
// record (the encrypted ballot, the choices and the revealed nonces), it
// re-encrypts every choice with its nonce under the election key from the
// manifest the board publishes, checks every proof, and shows what the
// ballot holds. An audited ballot is never cast.
const root = document.getElementById('audit-page');
const E = root.dataset.election;
const $ = (id) => document.getElementById(id);

function show(id) {
  for (const s of ['audit-ok', 'audit-bad', 'audit-none']) $(s).hidden = s !== id;
  const h = $(id).querySelector('h2');
  if (h) h.focus();
}

async function check(text) {
  const L = await import(root.dataset.bundle);
  const res = await fetch(`/ledger/v1/${E}/manifest`, { credentials: 'omit' });
  const { manifest, hash } = await L.parseManifest(new Uint8Array(await res.arrayBuffer()));
  const rec = JSON.parse(text);
  if (rec.election_id !== E || rec.manifest_hash !== L.toHex(hash)) throw new Error('another election');
  const ballot = L.ballotFromJSON(manifest, hash, JSON.stringify(rec.ballot));
  if (!L.verifyBallot(manifest, hash, ballot)) throw new Error('proofs');
  if (!L.checkAudit(manifest, ballot, rec.audit.choices, rec.audit.nonces)) throw new Error('nonces');
  const list = $('audit-choices');
  list.textContent = '';
  manifest.questions.forEach((q, qi) => {
    const dt = document.createElement('dt');
    dt.textContent = q.text;
    const dd = document.createElement('dd');
    const chosen = q.options.filter((_, oi) => rec.audit.choices[qi][oi] === 1).map((o) => o.label);
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
