// The in-browser verifier (src/verifier.mjs, shipped as
// dist/eballot-verifier.min.js) on the shared vector crypto/testdata/election_v1.json:
// a real election made by the Go scrutineer tool must pass every check, and
// each tampering must fail the right check, naming the item.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JS_DIR, need } from '../testlib/helpers.mjs';

const BUNDLE = join(JS_DIR, 'dist', 'eballot-verifier.min.js');
const V = await import(BUNDLE);

const input = (v, change = {}) => ({
  export: v.export, issued: v.issued, partials: JSON.stringify({ partials: v.partials }),
  report: v.report, signature: v.signature, key: v.scrutineer_key, ...change,
});

// The page's texts of the failures and limits: the service's catalogues
// (English and Welsh), as the verifier page carries them.
const CATALOG = join(JS_DIR, '..', '..', 'internal', 'result', 'i18n', 'result');
const messages = (lang) => Object.fromEntries(Object.entries(JSON.parse(readFileSync(join(CATALOG, `${lang}.json`), 'utf8')))
  .filter(([k]) => k.startsWith('verify.fail.')).map(([k, v]) => [k.slice('verify.fail.'.length), v]));
const EN = messages('en');
const CY = messages('cy');

test('a real election (version 2 export, signed close), made by the Go scrutineer tool, passes every check', async (t) => {
  const v = need(t, 'election_v1.json');
  if (!v) return;
  let last = null;
  const out = await V.verifyElection(input(v), (d, n) => { last = [d, n]; });
  assert.deepEqual(out.failed, [], JSON.stringify(out.failures));
  assert.deepEqual(Object.keys(out.groups), V.GROUPS);
  // No paper section in this ballot: the paper checks do not apply.
  assert.equal(out.groups.paper.ok, null);
  assert.ok(Object.entries(out.groups).every(([k, g]) => k === 'paper' || g.ok === true));
  assert.equal(out.entries, 12);
  assert.deepEqual(last, [12, 12]);
  assert.deepEqual(out.tally.map((s) => s.ballots), v.expected.votes_cast);
  assert.deepEqual(out.tally.map((s) => s.questions.map((q) => q.options.map((o) => o.count))), v.expected.counts);
});

test('without a result, the ledger is checked, the count is not applicable, and the limits are said', async (t) => {
  const v = need(t, 'election_v1.json');
  if (!v) return;
  const out = await V.verifyElection(input(v, { report: null, signature: null, partials: null, issued: null, key: '' }));
  assert.equal(out.groups.result.ok, null);
  assert.equal(out.groups.partials.ok, null);
  assert.equal(out.groups.entries.ok, true);
  assert.deepEqual(out.limits.map((l) => l.name), ['limit.final', 'limit.issued', 'limit.manifest_hash', 'limit.result']);
});

test('every failure and limit of the corpus reads in English and Welsh, with every parameter filled', async () => {
  const { caseInput } = await import('../testlib/corpus.mjs');
  const corpus = JSON.parse(readFileSync(join(JS_DIR, '..', 'testdata', 'tamper_v2.json'), 'utf8'));
  const seen = new Set();
  for (const c of corpus.cases) {
    if (c.expect.every((x) => seen.has(x)) && (c.limits ?? []).every((x) => seen.has(x))) continue;
    const out = await V.verifyElection(caseInput(corpus, c));
    for (const f of [...out.failures, ...out.limits]) {
      const code = f.check ?? f.name;
      if (seen.has(code)) continue;
      seen.add(code);
      for (const [lang, m] of [['English', EN], ['Welsh', CY]]) {
        assert.ok(code in m, `no ${lang} text for ${code}`);
        assert.doesNotMatch(V.formatFailure(f, m), /\{\w+\}/, `a parameter of ${code} is not in the ${lang} text`);
      }
    }
  }
  assert.ok(seen.size >= Object.keys(V.CHECKS).length, `only ${seen.size} checks and limits seen`);
  // A place in the result reads in the page's words.
  const f = { check: 'result.counts', params: { where: [['workplace', 'Cardiff Depot'], ['question', 'strike'], ['option', 'Yes']], claimed: '3', actual: '2' } };
  assert.equal(V.formatFailure(f, EN), 'Cardiff Depot, question "strike", Yes: the result says 3, the ledger decrypts to 2');
  assert.equal(V.formatFailure(f, CY), "Cardiff Depot, cwestiwn \"strike\", Yes: mae'r canlyniad yn dweud 3, mae'r cyfriflyfr yn dadgryptio i 2");
  assert.equal(V.formatFailure({ check: 'unknown.check', params: { a: 1 } }, EN), 'unknown.check {"a":1}');
});

test('every check and limit has an English and a Welsh text, and the page lists them', () => {
  const codes = [...Object.keys(V.CHECKS), ...V.LIMITS, 'fetch', 'where.workplace', 'where.question', 'where.option', 'where.field'];
  for (const c of codes) {
    assert.ok(c in EN, `no English text verify.fail.${c}`);
    assert.ok(c in CY, `no Welsh text verify.fail.${c}`);
  }
  assert.deepEqual(Object.keys(EN).sort(), Object.keys(CY).sort());
  assert.deepEqual(Object.keys(EN).sort(), [...codes].sort(), 'the catalogue has texts of no check');
  // The page's lists are Go's (crypto/verify.Checks and Limits: the
  // corpus test compares them; Groups here).
  const checks = readFileSync(join(JS_DIR, '..', 'verify', 'checks.go'), 'utf8');
  const groups = checks.match(/var Groups = \[\]string\{([^}]*)\}/)[1];
  assert.deepEqual([...groups.matchAll(/"([^"]+)"/g)].map((m) => m[1]), V.GROUPS);
});

for (const [name, file] of [['build-verifier', 'eballot-verifier.min.js'], ['build-worker', 'eballot-verify-worker.min.js']]) {
  test(`dist/${file} is up to date with src/ (reproducible build)`, (t) => {
    const esbuild = join(JS_DIR, 'node_modules', '.bin', 'esbuild');
    if (!existsSync(esbuild)) {
      t.skip('node_modules absent: run `npm ci` in crypto/js to check the bundle is fresh');
      return;
    }
    const script = JSON.parse(readFileSync(join(JS_DIR, 'package.json'), 'utf8')).scripts[name];
    assert.equal(script.split(/\s+/)[0], 'esbuild');
    const dir = mkdtempSync(join(tmpdir(), 'eballot-verifier-'));
    try {
      const out = join(dir, 'v.min.js');
      const a = script.split(/\s+/).slice(1).map((x) => (x.startsWith('--outfile=') ? `--outfile=${out}` : x));
      execFileSync(esbuild, a, { cwd: JS_DIR, stdio: 'pipe' });
      assert.ok(readFileSync(out).equals(readFileSync(join(JS_DIR, 'dist', file))), `dist/${file} is stale: run \`make js\` and commit it`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('the checks, their groups and the limits are the tables of docs/protocol.md §8', () => {
  const spec = readFileSync(join(JS_DIR, '..', '..', 'docs', 'protocol.md'), 'utf8');
  const rows = [...spec.matchAll(/^\| `([a-z_]+\.[a-z_.]+)` \| ([a-z]+) \|/gm)].map((m) => [m[1], m[2]]);
  assert.deepEqual(rows, Object.entries(V.CHECKS));
  assert.deepEqual([...spec.matchAll(/^\| `(limit\.[a-z_]+)` \|/gm)].map((m) => m[1]), V.LIMITS);
});

test('an export whose manifest has a ranked (STV) question is refused by name, not miscounted', async (t) => {
  const v = need(t, 'election_v1.json');
  if (!v) return;
  const E = await import(join(JS_DIR, 'dist', 'eballot.min.js'));
  const lines = v.export.split('\n');
  const header = JSON.parse(lines[0]);
  const m = JSON.parse(new TextDecoder().decode(E.fromBase64(JSON.parse(lines[1]).manifest)));
  // The same ballot as a version-2 union election with a ranked question.
  Object.assign(m, { version: 2, kind: 'union_election' });
  delete m.regime;
  m.questions[0] = { ...m.questions[0], method: 'ranked', seats: 1, rule: 'ers97' };
  const canonical = E.canonicalJSON(m);
  header.manifest_hash = E.toHex(E.manifestHash(m));
  lines[0] = E.canonicalJSON(header);
  lines[1] = E.canonicalJSON({ ...JSON.parse(lines[1]), manifest: E.toBase64(new TextEncoder().encode(canonical)) });
  const out = await V.verifyElection(input(v, { export: lines.join('\n') }));
  assert.ok(out.stopped);
  const f = out.failures.find((x) => x.check === 'manifest.valid');
  assert.ok(f && /question strike is ranked \(STV\): ballot version 2 is not supported by this verifier/.test(JSON.stringify(f)), JSON.stringify(out.failures));
});
