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
