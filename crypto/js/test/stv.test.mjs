// The STV count in JavaScript (src/stv.mjs through the verifier bundle)
// against Go's crypto/stv: every reference election of crypto/testdata/stv
// (the BLT files of Droop, OpenSTV and the ERS97 model election, and the
// random elections of random-references.json) counted under ERS97 and Meek
// must give exactly Go's result (crypto/testdata/stv_v1.json, written by
// crypto/internal/genvectors and checked against Go by crypto/stv's
// TestSharedVectors): every stage's votes, states, quota, exhausted and
// remainder values, transfers, elections, exclusions and notes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { JS_DIR, TESTDATA, hex, need } from '../testlib/helpers.mjs';

const V = await import(join(JS_DIR, 'dist', 'eballot-verifier.min.js'));

const electionOf = (c) => ({ ...c.election, ballots: c.election.ballots.map(([weight, prefs]) => ({ weight, prefs })) });

test('stv_v1: every reference election of crypto/testdata/stv is in the shared vectors', (t) => {
  const v = need(t, 'stv_v1.json');
  if (!v) return;
  const want = [];
  for (const dir of ['droop', 'ers97']) {
    for (const f of readdirSync(join(TESTDATA, 'stv', dir)).filter((x) => x.endsWith('.blt')).sort()) want.push(`${dir}/${f}`);
  }
  const refs = JSON.parse(readFileSync(join(TESTDATA, 'stv', 'random-references.json'), 'utf8'));
  refs.elections.forEach((_, i) => want.push(`random-references.json #${i}`));
  assert.ok(want.length >= 150);
  assert.deepEqual(v.cases.map((c) => c.name), want);
});

for (const rule of ['ers97', 'meek']) {
  test(`stv_v1: the JS ${rule} count of every reference election equals Go's, stage by stage`, (t) => {
    const v = need(t, 'stv_v1.json');
    if (!v) return;
    let stages = 0;
    for (const c of v.cases) {
      const got = V.countSTV(rule, electionOf(c));
      // Byte for byte as Go's JSON (same members, order and omissions), then member by member for a readable diff.
      if (JSON.stringify(got) !== JSON.stringify(c[rule])) assert.deepEqual(got, c[rule], `${c.name} (${rule})`);
      stages += got.stages.length;
    }
    assert.ok(stages > 600, `${stages} stages compared`);
  });
}

test('stv_v1: the lot order from a seed equals Go\'s', (t) => {
  const v = need(t, 'stv_v1.json');
  if (!v) return;
  assert.ok(v.lots.length > 0);
  for (const l of v.lots) assert.deepEqual(V.lotFromSeed(hex(l.seed), l.candidates), l.lot, l.seed);
});

test('stv: a changed count is told apart; an election the count cannot take is refused', (t) => {
  const v = need(t, 'stv_v1.json');
  if (!v) return;
  const c = v.cases.find((x) => x.name === 'ers97/model.blt');
  const e = electionOf(c);
  // One paper less: some stage differs.
  const fewer = { ...e, ballots: [{ ...e.ballots[0], weight: e.ballots[0].weight - 1 }, ...e.ballots.slice(1)].filter((b) => b.weight > 0) };
  assert.notDeepEqual(V.countSTV('ers97', fewer).stages, c.ers97.stages);
  // Another rule gives another count.
  assert.notDeepEqual(V.countSTV('meek', e).stages, c.ers97.stages);
  const bad = [
    { ...e, seats: 0 }, { ...e, seats: e.candidates + 1 }, { ...e, candidates: 0 },
    { ...e, ballots: [{ weight: 1, prefs: [0, 0] }] }, { ...e, ballots: [{ weight: 1, prefs: [e.candidates] }] },
    { ...e, ballots: [{ weight: 0, prefs: [0] }] }, { ...e, lot: [0] }, { ...e, withdrawn: [0, 0] },
    { ...e, ballots: [{ weight: 2 ** 31, prefs: [0] }, { weight: 1, prefs: [1] }] },
  ];
  for (const x of bad) assert.throws(() => V.countSTV('ers97', x), (err) => err.kind === 'invalid_election');
  assert.throws(() => V.countSTV('borda', e), (err) => err.kind === 'invalid_election');
});
