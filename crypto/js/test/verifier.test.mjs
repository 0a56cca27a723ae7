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
  exportText: v.export, election: v.election_id, issued: v.issued, partials: v.partials,
  result: { report: v.report, signature: v.signature }, scrutineerKey: v.scrutineer_key, ...change,
});
const failed = (out) => Object.entries(out.checks).filter(([, c]) => c.ok === false).map(([k]) => k);

// The page's texts of the failures: the service's catalogues (English and
// Welsh), as the verifier page carries them.
const CATALOG = join(JS_DIR, '..', '..', 'internal', 'result', 'i18n', 'result');
const messages = (lang) => Object.fromEntries(Object.entries(JSON.parse(readFileSync(join(CATALOG, `${lang}.json`), 'utf8')))
  .filter(([k]) => k.startsWith('verify.fail.')).map(([k, v]) => [k.slice('verify.fail.'.length), v]));
const EN = messages('en');
const CY = messages('cy');
const texts = (c, m = EN) => c.failures.map((f) => V.formatFailure(f, m));

test('a real election passes every check', async (t) => {
  const v = need(t, 'election_v1.json');
  if (!v) return;
  let last = null;
  const out = await V.verifyElection(input(v), (d, n) => { last = [d, n]; });
  assert.deepEqual(failed(out), [], JSON.stringify(out.checks));
  assert.deepEqual(Object.keys(out.checks), V.CHECKS);
  // No paper section in this ballot: the paper check does not apply.
  assert.equal(out.checks.paper.ok, null);
  assert.ok(Object.entries(out.checks).every(([k, c]) => k === 'paper' || c.ok === true));
  assert.equal(out.entries, 12);
  assert.deepEqual(last, [12, 12]);
  assert.deepEqual(out.counts.ballots, v.expected.votes_cast);
});

test('without a result, the ledger is checked and the count is not applicable', async (t) => {
  const v = need(t, 'election_v1.json');
  if (!v) return;
  const out = await V.verifyElection(input(v, { result: null, partials: null }));
  assert.equal(out.checks.result.ok, null);
  assert.equal(out.checks.partials.ok, null);
  assert.equal(out.checks.entries.ok, true);
});

test('tampering is named', async (t) => {
  const v = need(t, 'election_v1.json');
  if (!v) return;
  const lines = v.export.split('\n');
  const entryAt = lines.findIndex((l) => l.includes('"type":"entry","index":4,'));
  const cases = [
    ['an entry recorded in another workplace', { exportText: lines.map((l, i) => (i === entryAt ? l.replace('"style":0,', '"style":1,').replace('"style":1,', l.includes('"style":0,') ? '"style":1,' : '"style":0,') : l)).join('\n') },
      'entries', /entry 4 \(tracker [0-9A-Z-]+\): recorded as workplace/],
    ['a changed entry', { exportText: lines.map((l, i) => (i === entryAt ? l.replace(/"entry":"(.)/, (m, c) => `"entry":"${c === 'A' ? 'B' : 'A'}`) : l)).join('\n') },
      'entries', /entry 4 \(tracker [0-9A-Z-]+\): its tracker is not the hash of its ballot/],
    ['a checkpoint signed by another key', { exportText: lines.map((l) => (l.includes('"type":"checkpoint","size":5,') ? l.replace(/— (\S+) (.)/, (m, k, c) => `— ${k} ${c === 'A' ? 'B' : 'A'}`) : l)).join('\n') },
      'checkpoints', /checkpoint 5:/],
    ['more ballots than authorisations issued', { issued: [5, 6] }, 'counts', /workplace-1: 6 ballots, only 5 authorisations issued/],
    ['a partial decryption of the wrong trustee', { partials: [v.partials[0], { ...v.partials[1], trustee: 2 }] }, 'partials', /trustee 2.*invalid DLEQ proof/],
    ['a result changed after signing', { result: { report: v.report.replace('"count": 4', '"count": 5'), signature: v.signature } }, 'result', /signature of the result does not verify/],
    ['a result signed by another key', { scrutineerKey: 'someone+00000000+' + 'A'.repeat(43) + '=' }, 'result', /does not verify/],
  ];
  for (const [name, change, check, want] of cases) {
    const out = await V.verifyElection(input(v, change));
    assert.ok(failed(out).includes(check), `${name}: ${check} did not fail (${JSON.stringify(failed(out))})`);
    assert.ok(texts(out.checks[check]).some((f) => want.test(f)), `${name}: ${JSON.stringify(texts(out.checks[check]))}`);
    for (const f of out.checks[check].failures) {
      assert.ok(f.code in EN && f.code in CY, `${name}: no English or Welsh text for failure ${f.code}`);
      assert.doesNotMatch(V.formatFailure(f, CY), /\{\w+\}/, `${name}: a parameter of ${f.code} is not in the Welsh text`);
    }
  }
});

test('the decrypted totals are returned; a failure is named in English and Welsh', async (t) => {
  const v = need(t, 'election_v1.json');
  if (!v) return;
  const ok = await V.verifyElection(input(v));
  assert.deepEqual(ok.tally.map((s) => s.ballots), v.expected.votes_cast);
  // The verifier's own count: what the page shows next to the published one.
  assert.ok(ok.tally.every((s) => s.questions.every((q) => q.options.every((o) => Number.isInteger(o.count) && o.count >= 0))));
  const out = await V.verifyElection(input(v, { result: { report: v.report, signature: 'not a signature' } }));
  assert.equal(out.checks.result.failures[0].code, 'result.signature');
  assert.match(texts(out.checks.result, CY)[0], /nid yw llofnod y canlyniad yn gwirio/);
  assert.equal(V.formatFailure({ code: 'unknown.code', params: { a: 1 } }, EN), 'unknown.code {"a":1}');
});

test('every failure code of the verifier has an English and a Welsh text, and the page lists it', () => {
  const src = readFileSync(join(JS_DIR, 'src', 'verifier.mjs'), 'utf8');
  const codes = new Set([...src.matchAll(/(?:fail\('\w+', |failWith\('\w+', e, |bad\()'([a-z_]+\.[a-z_.]+)'/g)].map((m) => m[1]));
  assert.ok(codes.size > 40, `only ${codes.size} codes found`);
  const goList = readFileSync(join(JS_DIR, '..', '..', 'internal', 'result', 'pages.go'), 'utf8').match(/var VerifierFailures = \[\]string\{([^}]*)\}/)[1];
  const listed = new Set([...goList.matchAll(/"([^"]+)"/g)].map((m) => m[1]));
  for (const c of [...codes, 'fetch']) {
    assert.ok(c in EN, `no English text verify.fail.${c}`);
    assert.ok(c in CY, `no Welsh text verify.fail.${c}`);
    assert.ok(listed.has(c), `internal/result.VerifierFailures lacks ${c}`);
  }
  assert.deepEqual(Object.keys(EN).sort(), Object.keys(CY).sort());
  assert.deepEqual([...listed].sort(), Object.keys(EN).sort());
});

test('dist/eballot-verifier.min.js is up to date with src/ (reproducible build)', (t) => {
  const esbuild = join(JS_DIR, 'node_modules', '.bin', 'esbuild');
  if (!existsSync(esbuild)) {
    t.skip('node_modules absent: run `npm ci` in crypto/js to check the bundle is fresh');
    return;
  }
  const script = JSON.parse(readFileSync(join(JS_DIR, 'package.json'), 'utf8')).scripts['build-verifier'];
  assert.equal(script.split(/\s+/)[0], 'esbuild');
  const dir = mkdtempSync(join(tmpdir(), 'eballot-verifier-'));
  try {
    const out = join(dir, 'v.min.js');
    const a = script.split(/\s+/).slice(1).map((x) => (x.startsWith('--outfile=') ? `--outfile=${out}` : x));
    execFileSync(esbuild, a, { cwd: JS_DIR, stdio: 'pipe' });
    assert.ok(readFileSync(out).equals(readFileSync(BUNDLE)), 'dist/eballot-verifier.min.js is stale: run `make js` and commit it');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
