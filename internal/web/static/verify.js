// The public verifier page (/verify/{election}): downloads the board's
// export, the issued counts and the published result, and re-runs the
// verification with the verifier bundle (loaded only here), showing each
// check's state and naming every failing item. Nothing is sent anywhere.
const root = document.getElementById('verifier');
const election = root.dataset.election;
const start = document.getElementById('verify-start');
const bar = document.getElementById('verify-progress');
const barText = document.getElementById('verify-progress-text');

function setState(id, state, failures = []) {
  const li = document.getElementById('check-' + id);
  if (!li) return;
  li.dataset.state = state;
  li.querySelector('.check-state').textContent = root.dataset[state === 'ok' ? 'pass' : state === 'bad' ? 'fail' : state];
  const ul = li.querySelector('.check-failures');
  ul.replaceChildren(...failures.map((f) => Object.assign(document.createElement('li'), { textContent: f })));
}

async function fetchText(path, optional) {
  const r = await fetch(path, { credentials: 'omit' });
  if (!r.ok) {
    if (optional) return null;
    throw new Error(`${path}: HTTP ${r.status}`);
  }
  return r.text();
}

start.addEventListener('click', async () => {
  start.disabled = true;
  document.getElementById('verify-ok').hidden = true;
  document.getElementById('verify-failed').hidden = true;
  for (const li of document.querySelectorAll('#verify-checks > li')) setState(li.id.slice(6), 'running');
  try {
    const V = await import(root.dataset.bundle);
    const base = '/ledger/v1/' + election;
    const exportText = await fetchText(base + '/export');
    const counts = await fetchText('/issuance/v1/' + election + '/counts', true);
    const issued = counts ? JSON.parse(counts).styles.map((s) => s.issued) : null;
    let result = null;
    let partials = null;
    if (root.dataset.published === 'true') {
      const report = await fetchText(base + '/result');
      const signature = await fetchText(base + '/result/signature');
      partials = JSON.parse(await fetchText(base + '/partials')).partials;
      result = { report, signature };
    }
    const out = await V.verifyElection({ exportText, election, issued, result, partials }, (done, total) => {
      bar.max = Math.max(total, 1);
      bar.value = done;
      barText.textContent = `${done} / ${total}`;
    });
    let bad = false;
    for (const [id, c] of Object.entries(out.checks)) {
      setState(id, c.ok === null ? 'skip' : c.ok ? 'ok' : 'bad', c.failures);
      bad ||= c.ok === false;
    }
    document.getElementById(bad ? 'verify-failed' : 'verify-ok').hidden = false;
  } catch (e) {
    setState('manifest', 'bad', [String(e.message || e)]);
    document.getElementById('verify-failed').hidden = false;
  } finally {
    start.disabled = false;
  }
});
