// Ranking widget for a ranked (STV) contest on the voting paper: the member
// puts candidates in order with buttons ("Add to my ranking", "Move up",
// "Move down", "Remove"), by keyboard, touch or screen reader, never by
// dragging alone; every change is announced in a polite live region. It
// enhances server-rendered markup that works without it: one <select> of
// preference numbers a candidate (crypto/js/README.md, "Ranking widget"):
//
//   <fieldset class="ranking" data-ranking data-min="1" data-max="3" data-texts="{{rankingTexts .Lang}}">
//     <legend>…</legend>
//     <ol class="ranking-candidates">
//       <li data-candidate="0"><span class="ranking-name">Name</span>
//         <label>… <select name="…"><option value="">—</option><option value="1">1</option>…</select></label></li>
//
// The selects stay the source of truth for the form (value = position,
// "" = not ranked); the widget keeps them in step and fires
// "ranking-change" on the fieldset with detail.ranking (candidate indices,
// most preferred first). No inline script or style (strict CSP): texts come
// from data-texts (the page's "ranking.*" messages, English or Welsh).

const fill = (tpl, p) => String(tpl ?? '').replace(/\{(\w+)\}/g, (m, k) => (k in p ? String(p[k]) : m));

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = text;
  return e;
}

let uid = 0;

/** Enhances one fieldset; returns {ranking(), set(ranking)}. Idempotent. */
export function mountRanking(fs) {
  if (fs.rankingWidget) return fs.rankingWidget;
  let t = {};
  try {
    t = JSON.parse(fs.dataset.texts || '{}');
  } catch {
    return null; // without texts, leave the plain form
  }
  const id = `ranking-${++uid}`;
  const max = Number(fs.dataset.max) > 0 ? Number(fs.dataset.max) : Infinity;
  const source = fs.querySelector('.ranking-candidates');
  const cands = [...fs.querySelectorAll('[data-candidate]')].map((li) => ({
    id: Number(li.dataset.candidate),
    name: (li.querySelector('.ranking-name') || li).textContent.trim(),
    select: li.querySelector('select'),
  }));
  const byId = new Map(cands.map((c) => [c.id, c]));
  // The order already chosen (a page shown again, or the plain form).
  let order = cands.filter((c) => c.select && c.select.value !== '')
    .sort((a, b) => Number(a.select.value) - Number(b.select.value)).map((c) => c.id).slice(0, max);

  const ui = el('div', 'ranking-ui');
  const hRanked = el('p', 'ranking-heading', t.your_ranking);
  hRanked.id = `${id}-ranked`;
  const ranked = el('ol', 'ranking-list');
  ranked.setAttribute('aria-labelledby', hRanked.id);
  const empty = el('p', 'ranking-empty', t.empty);
  const full = el('p', 'ranking-full', fill(t.full, { max }));
  full.id = `${id}-full`;
  const hRest = el('p', 'ranking-heading', t.not_ranked);
  hRest.id = `${id}-rest`;
  const rest = el('ul', 'ranking-list ranking-rest');
  rest.setAttribute('aria-labelledby', hRest.id);
  const live = el('p', 'ranking-live');
  live.setAttribute('role', 'status');
  live.setAttribute('aria-live', 'polite');
  ui.append(hRanked, empty, ranked, full, hRest, rest, live);
  if (source) source.hidden = true;
  fs.append(ui);
  fs.classList.add('ranking-enhanced');

  // The visible words, then the candidate's name for screen readers: the
  // accessible name starts with the visible label (WCAG 2.5.3).
  function button(action, c, label) {
    const b = el('button', `secondary ranking-${action}`, label);
    b.type = 'button';
    b.dataset.action = action;
    b.dataset.id = String(c.id);
    b.append(el('span', 'ranking-vh', `, ${c.name}`));
    return b;
  }

  function render() {
    ranked.textContent = '';
    rest.textContent = '';
    order.forEach((cid, i) => {
      const c = byId.get(cid);
      const li = el('li', 'ranking-item');
      li.dataset.id = String(cid);
      const pos = el('span', 'ranking-pos', String(i + 1));
      pos.setAttribute('aria-hidden', 'true');
      const acts = el('span', 'ranking-actions');
      const up = button('up', c, t.move_up);
      const down = button('down', c, t.move_down);
      up.disabled = i === 0;
      down.disabled = i === order.length - 1;
      acts.append(up, down, button('remove', c, t.remove));
      const name = el('span', 'ranking-name', c.name);
      li.append(pos, name, acts);
      ranked.append(li);
    });
    const isFull = order.length >= max;
    for (const c of cands) {
      if (order.includes(c.id)) continue;
      const li = el('li', 'ranking-item');
      li.dataset.id = String(c.id);
      const add = button('add', c, t.add);
      add.disabled = isFull;
      if (isFull) add.setAttribute('aria-describedby', full.id);
      li.append(el('span', 'ranking-name', c.name), el('span', 'ranking-actions'));
      li.lastChild.append(add);
      rest.append(li);
    }
    empty.hidden = order.length > 0;
    full.hidden = !isFull;
    hRest.hidden = rest.children.length === 0;
    for (const c of cands) {
      if (!c.select) continue;
      const p = order.indexOf(c.id);
      c.select.value = p < 0 ? '' : String(p + 1);
    }
  }

  const say = (msg) => {
    // A new text node each time, so the same words said twice are announced twice.
    live.textContent = '';
    live.append(document.createTextNode(msg));
  };
  const focusOn = (...sel) => {
    for (const s of sel) {
      const b = s && ui.querySelector(s);
      if (b && !b.disabled) {
        b.focus();
        return;
      }
    }
    ui.querySelector('button:not([disabled])')?.focus();
  };

  function act(action, cid) {
    const c = byId.get(cid);
    const i = order.indexOf(cid);
    const q = (a, x) => `button[data-action="${a}"][data-id="${x}"]`;
    if (action === 'add' && i < 0 && order.length < max) {
      const next = cands.filter((x) => !order.includes(x.id) && x.id !== cid);
      const after = next.find((x) => cands.indexOf(x) > cands.indexOf(c)) ?? next[next.length - 1];
      order.push(cid);
      render();
      say(fill(t.added, { name: c.name, n: order.length }) + (order.length >= max ? ` ${fill(t.full, { max })}` : ''));
      focusOn(after && q('add', after.id), q('remove', cid));
    } else if ((action === 'up' && i > 0) || (action === 'down' && i >= 0 && i < order.length - 1)) {
      const j = action === 'up' ? i - 1 : i + 1;
      [order[i], order[j]] = [order[j], order[i]];
      render();
      say(fill(t.moved, { name: c.name, n: j + 1 }));
      focusOn(q(action, cid), q(action === 'up' ? 'down' : 'up', cid), q('remove', cid));
    } else if (action === 'remove' && i >= 0) {
      order.splice(i, 1);
      render();
      say(fill(t.removed, { name: c.name }));
      const stay = order[i] ?? order[i - 1];
      focusOn(stay != null && q('remove', stay), q('add', cid));
    } else {
      return;
    }
    fs.dispatchEvent(new CustomEvent('ranking-change', { detail: { ranking: order.slice() } }));
  }

  ui.addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-action]');
    if (b && ui.contains(b)) act(b.dataset.action, Number(b.dataset.id));
  });
  render();
  fs.rankingWidget = {
    ranking: () => order.slice(),
    set(r) {
      order = r.filter((x) => byId.has(x)).filter((x, k, a) => a.indexOf(x) === k).slice(0, max);
      render();
    },
  };
  return fs.rankingWidget;
}

/** Enhances every ranked contest on the page. */
export function mountAll(root = document) {
  return [...root.querySelectorAll('fieldset[data-ranking]')].map(mountRanking);
}

mountAll();
