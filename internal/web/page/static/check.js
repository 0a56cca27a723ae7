// "Check my vote": anyone checks, in their own browser, that a receipt's
// entry is in the ledger's signed tree and that the latest signed
// checkpoint extends the receipt's (docs/protocol.md §6). Nothing is
// trusted from the server that the signatures and proofs do not cover.
const root = document.getElementById('check');
const E = root.dataset.election;
const $ = (id) => document.getElementById(id);
const base = `/ledger/v1/${E}`;

async function get(path, raw) {
  const res = await fetch(base + path, { credentials: 'omit' });
  if (res.status === 404) throw Object.assign(new Error('not found'), { missing: true });
  if (!res.ok) throw new Error(String(res.status));
  return raw ? new Uint8Array(await res.arrayBuffer()) : res.json();
}

function show(id, index, size) {
  for (const s of ['check-ok', 'check-missing', 'check-bad']) $(s).hidden = s !== id;
  if (id === 'check-ok') {
    $('check-index').textContent = String(index + 1); // people count from 1 (the ledger from 0)
    $('check-size').textContent = String(size);
  }
  $(id).querySelector('h2').focus();
}

// receiptFromInput returns the receipt to check: the saved file, or the
// ledger's current receipt for a typed tracker or receipt code.
async function receiptFromInput(L) {
  const file = $('receipt-file').files[0];
  if (file) return L.parseReceipt(await file.text());
  const typed = $('tracker').value.trim();
  const hex = typed.toLowerCase();
  let path;
  if (/^[0-9a-f]{64}$/.test(hex)) path = `/receipts/${hex}`;
  else {
    const code = typed.toUpperCase().replace(/[^0-9A-Z]/g, '');
    if (code.length !== 16) throw Object.assign(new Error('bad code'), { missing: true });
    path = `/codes/${code}`;
  }
  return L.parseReceipt(JSON.stringify(await get(path)));
}

async function check(ev) {
  ev.preventDefault();
  try {
    const L = await import(root.dataset.bundle);
    const { manifest } = await L.parseManifest(await get('/manifest', true));
    const r = await receiptFromInput(L);
    const e = await get(`/entries/${r.index}`);
    const entry = L.entryRecord(r.tracker, L.fromBase64(e.authorisation), L.fromBase64(e.ballot));
    const mine = L.verifyReceipt(r, manifest.log_key, entry);
    const latest = await get('/checkpoint');
    let size = mine.size;
    if (latest.size > mine.size) {
      const p = await get(`/proofs/consistency?old=${mine.size}&new=${latest.size}`);
      L.verifyReceiptAgainst(r, manifest.log_key, entry, latest.note, p.proof.map((h) => L.fromHex(h)));
      size = latest.size;
    }
    show('check-ok', r.index, size);
  } catch (e) {
    show(e.missing ? 'check-missing' : 'check-bad');
  }
}

$('check-form').addEventListener('submit', check);
