// The ranked count verifier page (/verify-ranked): the member chooses the
// files the scrutineer published for a ranked (STV) contest (contest.json,
// every mix-<t>.list and mix-<t>.proof, the decrypt-<j>.bin, result.json)
// and the verifier bundle re-checks every ballot's proofs, every mixer's
// shuffle, every trustee's decryption and the count (recountRanked,
// docs/protocol.md §9.5–§9.7), the ballots and the mixings on every core
// (Web Workers from the worker bundle, data-worker; in the page when they
// cannot start), showing its progress. Each failure is named in the
// page's language (the bundle reports {check, params}; the page carries
// the texts). Nothing is sent anywhere.
const root = document.getElementById('ranked-verifier');
const form = document.getElementById('ranked-form');
const input = document.getElementById('ranked-files');
const start = document.getElementById('ranked-start');
const status = document.getElementById('ranked-status');
const okBox = document.getElementById('ranked-ok');
const failBox = document.getElementById('ranked-failed');
const list = document.getElementById('ranked-failures');
const progressBox = document.getElementById('ranked-progress-box');
const bar = document.getElementById('ranked-progress');
const barText = document.getElementById('ranked-progress-text');
const phases = Object.fromEntries([...document.getElementById('ranked-progress-messages').content.querySelectorAll('[data-phase]')]
  .map((e) => [e.dataset.phase, e.textContent]));
const messages = Object.fromEntries([...document.getElementById('ranked-messages').content.querySelectorAll('[data-code]')]
  .map((e) => [e.dataset.code, e.textContent]));

// text is the page's words for a failure: its template with each {name}
// replaced by the parameter (lists joined by commas, a missing one empty).
const text = (check, params = {}) => (messages[check] ?? `${check} {detail}`).replace(/\{(\w+)\}/g, (m, k) => {
  const v = params[k];
  if (v === undefined || v === null) return '';
  return Array.isArray(v) ? v.join(', ') : String(v);
});

// filesOf sorts the chosen files into the recount's input, or throws a
// failure naming what is missing.
async function filesOf(chosen) {
  const byName = new Map([...chosen].map((f) => [f.name, f]));
  const bytes = async (f) => new Uint8Array(await f.arrayBuffer());
  for (const need of ['contest.json', 'result.json']) {
    if (!byName.has(need)) throw { check: 'missing', params: { file: need } };
  }
  const mixes = [];
  for (let t = 1; byName.has(`mix-${t}.list`) || byName.has(`mix-${t}.proof`); t++) {
    for (const f of [`mix-${t}.list`, `mix-${t}.proof`]) if (!byName.has(f)) throw { check: 'missing', params: { file: f } };
    mixes.push({ list: await bytes(byName.get(`mix-${t}.list`)), proof: await bytes(byName.get(`mix-${t}.proof`)) });
  }
  if (mixes.length === 0) throw { check: 'missing', params: { file: 'mix-1.list, mix-1.proof' } };
  const decryptions = [];
  for (const [name, f] of [...byName].sort(([a], [b]) => a.localeCompare(b))) {
    if (/^decrypt-\d+\.bin$/.test(name)) decryptions.push(await bytes(f));
  }
  return { contest: await byName.get('contest.json').text(), result: await byName.get('result.json').text(), mixes, decryptions };
}

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  start.disabled = true;
  okBox.hidden = true;
  failBox.hidden = true;
  root.dataset.outcome = '';
  root.dataset.inWorkers = '';
  list.replaceChildren();
  status.textContent = root.dataset.running;
  const failed = (fs) => {
    list.replaceChildren(...fs.map((f) => {
      const li = document.createElement('li');
      li.textContent = text(f.check, f.params);
      li.dataset.check = f.check;
      return li;
    }));
    failBox.hidden = false;
    root.dataset.outcome = 'failed';
  };
  try {
    const files = await filesOf(input.files);
    const V = await import(root.dataset.bundle);
    // Let the page show "checking…" before the work starts.
    await new Promise((r) => setTimeout(r, 20));
    progressBox.hidden = false;
    const r = await V.recountRanked(files, {
      workers: { url: root.dataset.worker, n: Math.min(navigator.hardwareConcurrency || 1, 8) },
      onProgress: ({ phase, done, total }) => {
        if (total !== undefined) {
          bar.max = Math.max(total, 1);
          bar.value = done;
        } else bar.removeAttribute('value'); // a phase without steps: indeterminate
        barText.textContent = (phases[phase] ?? phase).replace('{done}', String(done)).replace('{total}', String(total));
      },
    });
    // How many jobs (batches of ballots, mixings) were checked in workers (0: all in the page).
    root.dataset.inWorkers = String(r.parallel?.inWorkers ?? 0);
    // What stays on the page: how many ballots were checked.
    const n = String(JSON.parse(files.contest).ballots.length);
    bar.max = 1;
    bar.value = 1;
    barText.textContent = phases.ballots.replace('{done}', n).replace('{total}', n);
    if (r.ok) {
      const names = JSON.parse(files.contest).candidates;
      document.getElementById('ranked-elected').textContent = `${root.dataset.elected} ${r.count.elected.map((c) => names[c]).join('; ')}`;
      okBox.hidden = false;
      root.dataset.outcome = 'ok';
    } else {
      failed(r.failures);
    }
  } catch (e) {
    progressBox.hidden = true;
    failed([e?.check ? e : { check: 'file', params: { detail: String(e?.message ?? e).replace(/^eballot: /, '') } }]);
  } finally {
    status.textContent = '';
    start.disabled = false;
  }
});
