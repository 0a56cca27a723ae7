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

test('a real election passes every check', async (t) => {
  const v = need(t, 'election_v1.json');
  if (!v) return;
  let last = null;
  const out = await V.verifyElection(input(v), (d, n) => { last = [d, n]; });
  assert.deepEqual(failed(out), [], JSON.stringify(out.checks));
  assert.deepEqual(Object.keys(out.checks), V.CHECKS);
  assert.ok(Object.values(out.checks).every((c) => c.ok === true));
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
    assert.ok(out.checks[check].failures.some((f) => want.test(f)), `${name}: ${JSON.stringify(out.checks[check].failures)}`);
  }
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
