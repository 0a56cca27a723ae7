// The public verifier page (/verify/{election}): downloads the board's
// export, the published counts and the published result, and re-runs the
// verification with the verifier bundle (loaded only here): the named
// checks of docs/protocol.md §8, shown by group, every failing item named
// in the page's language (the bundle reports {check, params}; the page
// carries the texts), what could not be checked, and the decrypted totals.
// Nothing is sent anywhere.
const root = document.getElementById('verifier');
const election = root.dataset.election;
const start = document.getElementById('verify-start');
const bar = document.getElementById('verify-progress');
const barText = document.getElementById('verify-progress-text');
const totals = document.getElementById('verify-totals');
const messages = Object.fromEntries([...document.getElementById('verify-messages').content.querySelectorAll('[data-code]')]
  .map((el) => [el.dataset.code, el.textContent]));
const el = (tag, props = {}, ...children) => { const e = Object.assign(document.createElement(tag), props); e.append(...children); return e; };

function setState(id, state, failures = []) {
  const li = document.getElementById('check-' + id);
  if (!li) return;
  li.dataset.state = state;
  li.querySelector('.check-state').textContent = root.dataset[state === 'ok' ? 'pass' : state === 'bad' ? 'fail' : state];
  li.querySelector('.check-failures').replaceChildren(...failures.map((f) => el('li', { textContent: f })));
}

// showTotals lists the decrypted count of each workplace ballot.
function showTotals(tally) {
  totals.querySelectorAll('.verify-style').forEach((s) => s.remove());
  if (!tally) { totals.hidden = true; return; }
  for (const st of tally) {
    const sec = el('div', { className: 'verify-style card' }, el('h3', { textContent: st.name }),
      el('p', {}, `${totals.dataset.ballots}: `, el('strong', { className: 'verify-ballots', textContent: String(st.ballots) })));
    sec.dataset.style = st.id;
    for (const q of st.questions) {
      const table = el('table', {}, el('caption', { textContent: q.text }));
      table.dataset.question = q.id;
      for (const o of q.options) {
        const td = el('td', { textContent: String(o.count) });
        td.dataset.option = o.id;
        table.append(el('tr', {}, el('th', { scope: 'row', textContent: o.label }), td));
      }
      sec.append(table);
    }
    totals.append(sec);
  }
  totals.hidden = false;
}

async function fetchBody(path, optional, bytes = false) {
  const r = await fetch(path, { credentials: 'omit' });
  if (!r.ok) {
    if (optional) return null;
    throw new Error(`${path}: HTTP ${r.status}`);
  }
  return bytes ? new Uint8Array(await r.arrayBuffer()) : r.text();
}

// showLimits lists what the verification could not establish.
function showLimits(limits, text) {
  const sec = document.getElementById('verify-limits');
  sec.querySelector('ul').replaceChildren(...limits.map((l) => el('li', { textContent: text(l) })));
  sec.hidden = limits.length === 0;
}

start.addEventListener('click', async () => {
  start.disabled = true;
  document.getElementById('verify-ok').hidden = true;
  document.getElementById('verify-failed').hidden = true;
  showTotals(null);
  showLimits([], String);
  for (const li of document.querySelectorAll('#verify-checks > li')) setState(li.id.slice(6), 'running');
  try {
    const V = await import(root.dataset.bundle);
    const text = (f) => V.formatFailure(f, messages);
    const base = '/ledger/v1/' + election;
    // The ballots are checked on every core: Web Workers from the worker
    // bundle (the verifier checks in the page when they cannot start).
    const input = { expected: { electionId: election }, workers: { url: root.dataset.worker, n: Math.min(navigator.hardwareConcurrency || 1, 8) } };
    try {
      // The export as bytes: the verifier checks its UTF-8 itself.
      input.export = await fetchBody(base + '/export', false, true);
      input.counts = await fetchBody('/issuance/v1/' + election + '/counts', true);
      if (root.dataset.published === 'true') {
        input.report = await fetchBody(base + '/result');
        input.signature = await fetchBody(base + '/result/signature');
        input.partials = await fetchBody(base + '/partials');
      }
    } catch (e) {
      throw new Error(text({ check: 'fetch', params: { detail: String(e.message || e) } }));
    }
    const out = await V.verifyElection(input, (done, total) => {
      bar.max = Math.max(total, 1);
      bar.value = done;
      barText.textContent = `${done} / ${total}`;
    });
    let bad = false;
    for (const [id, g] of Object.entries(out.groups)) {
      setState(id, g.ok === null ? 'skip' : g.ok ? 'ok' : 'bad', g.failures.map(text));
      bad ||= g.ok === false;
    }
    // How many batches of ballots were checked in workers (0: all in the page).
    root.dataset.inWorkers = String(out.parallel?.inWorkers ?? 0);
    showTotals(out.tally);
    showLimits(out.limits, text);
    document.getElementById(bad ? 'verify-failed' : 'verify-ok').hidden = false;
  } catch (e) {
    setState('file', 'bad', [String(e.message || e)]);
    document.getElementById('verify-failed').hidden = false;
  } finally {
    start.disabled = false;
  }
});
