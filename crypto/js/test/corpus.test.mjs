// The tamper corpus crypto/testdata/tamper_v2.json (made by `go run
// ./crypto/internal/gencorpus`), run by the browser verifier as the Go
// verifier runs it (crypto/report TestCorpus): every case must fail exactly
// the named checks it lists, and say exactly the limits it lists; the
// honest elections must pass and count as recorded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { JS_DIR, TESTDATA } from '../testlib/helpers.mjs';
import { caseInput } from '../testlib/corpus.mjs';

const V = await import(join(JS_DIR, 'dist', 'eballot-verifier.min.js'));
const corpus = JSON.parse(readFileSync(join(TESTDATA, 'tamper_v2.json'), 'utf8'));
const input = (c) => caseInput(corpus, c);
const order = Object.keys(V.CHECKS);

test('the corpus names the checks of this verifier', () => {
  assert.deepEqual(corpus.checks, order, 'the checks differ from Go\'s (crypto/verify.Checks): regenerate the corpus, align src/checks.mjs');
  assert.deepEqual(corpus.limits, V.LIMITS);
});

for (const c of corpus.cases) {
  test(`corpus: ${c.name}`, async () => {
    const out = await V.verifyElection(input(c));
    const want = [...c.expect].sort((a, b) => order.indexOf(a) - order.indexOf(b));
    assert.deepEqual(out.failed, want, JSON.stringify(out.failures.slice(0, 8)));
    if (c.limits) assert.deepEqual(out.limits.map((l) => l.name).sort(), [...c.limits].sort());
    const base = corpus.bases[c.base];
    if (want.length === 0 && base.tally && (c.inputs?.report === undefined) && out.tally) {
      assert.deepEqual(out.tally.map((s) => s.questions.map((q) => q.options.map((o) => o.count))), base.tally);
    }
  });
}

test('the honest elections count as the scrutineer did (colluding voters included)', async () => {
  for (const name of ['honest', 'colluding', 'legacy_v1']) {
    const out = await V.verifyElection(input({ base: name }));
    assert.deepEqual(out.failed, [], name);
    assert.deepEqual(out.tally.map((s) => s.questions.map((q) => q.options.map((o) => o.count))), corpus.bases[name].tally, name);
  }
});

test('a copied ballot is not counted twice (it is taken back out of its batch\'s sums)', async () => {
  // The honest election with a copy of its last ballot appended as entry 8
  // after the last checkpoint, its close taken out (an open ledger), tree
  // size, end line and style counts to match: the copy fails its duplicate
  // checks, and the count is still the honest one.
  const base = input({ base: 'honest' });
  const lines = base.export.split('\n').filter((l) => !l.startsWith('{"note":') || !l.includes('"type":"close"'));
  const last = JSON.parse(lines.findLast((l) => l.startsWith('{"entry":')));
  const copy = JSON.stringify({ entry: last.entry, hints: last.hints, index: last.index + 1, style: last.style, type: 'entry' });
  lines.splice(lines.findLastIndex((l) => l.includes('"type":"checkpoint"')) + 1, 0, copy);
  lines[0] = lines[0].replace(/"closed":true,/, '"closed":false,').replace(/"tree_size":8,/, '"tree_size":9,');
  const end = lines.findIndex((l) => l.startsWith('{"checkpoints":'));
  const e = JSON.parse(lines[end]);
  e.entries = 9;
  e.style_counts[last.style]++;
  lines[end] = JSON.stringify(Object.fromEntries(Object.keys(e).sort().map((k) => [k, e[k]])));
  const out = await V.verifyElection({ ...base, export: lines.join('\n') });
  assert.equal(out.stopped, false, JSON.stringify(out.failures.slice(0, 4)));
  assert.ok(out.failed.includes('entry.duplicate_tracker') && out.failed.includes('entry.duplicate_alpha'), out.failed.join(' '));
  assert.deepEqual(out.tally.map((s) => s.questions.map((q) => q.options.map((o) => o.count))), corpus.bases.honest.tally);
});
