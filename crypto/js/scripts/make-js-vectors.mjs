// JS → Go interop vectors: ballots made by the shipped bundle for the
// manifest of crypto/testdata/manifest_v1.json, written to
// crypto/testdata/js_ballots_v1.json and checked by the Go test
// crypto/ballot/js_interop_test.go.
//
// Usage: node crypto/js/scripts/make-js-vectors.mjs   (after npm run build)
// The output changes on every run (fresh randomness); commit it once.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const JS = join(dirname(fileURLToPath(import.meta.url)), '..');
const TESTDATA = join(JS, '..', 'testdata');
const E = await import(join(JS, 'dist', 'eballot.min.js'));

const src = JSON.parse(readFileSync(join(TESTDATA, 'manifest_v1.json'), 'utf8'));
const { manifest, hash: mh, canonical } = await E.parseManifest(JSON.stringify(src.manifest));
if (E.toHex(mh) !== src.hash) throw new Error('manifest hash differs from manifest_v1.json');

/** Every list of 0/1 marks for a question with min ≤ Σ ≤ max. */
function markings(q) {
  const out = [];
  for (let bits = 0; bits < 1 << q.options.length; bits++) {
    const c = q.options.map((_, i) => (bits >> i) & 1);
    const n = c.reduce((a, b) => a + b, 0);
    if (n >= q.min && n <= q.max) out.push(c);
  }
  return out;
}
const cartesian = (lists) => lists.reduce((acc, l) => acc.flatMap((a) => l.map((x) => [...a, x])), [[]]);
const allChoices = cartesian(manifest.questions.map(markings)).slice(0, 16);

const valid = [];
for (let style = 0; style < manifest.styles.length; style++) {
  for (const choices of allChoices) {
    const { ballot, nonces } = E.encryptBallot(manifest, mh, style, choices);
    const bytes = E.encodeBallot(ballot);
    if (!E.verifyBallot(manifest, mh, E.decodeBallot(manifest, mh, bytes))) throw new Error('self-check failed');
    const T = E.tracker(mh, bytes);
    valid.push({
      name: `${manifest.styles[style].id} ${choices.map((c) => c.join('')).join(' ')}`,
      style,
      choices,
      audit: E.auditRecord(choices, nonces),
      binary: E.toHex(bytes),
      json: E.encodeBallotJSON(ballot),
      tracker: E.toHex(T),
      short_code: E.shortCode(T),
    });
  }
}

// Tampered JS ballots: Go must reject each with the given error kind.
const base = E.fromHex(valid[0].binary);
const q0 = 37 + 2; // first selection of the first question
const sum0 = q0 + manifest.questions[0].options.length * 320; // its sum proof
const edit = (name, error, f) => {
  const b = Uint8Array.from(base);
  f(b);
  return { name, error, binary: E.toHex(b) };
};
const addOne = (b, o) => { b[o] = (b[o] + 1) & 255; };
const other = E.fromHex(valid[1].binary);
const invalid = [
  edit('selection proof c_0 + 1', 'bad_proof', (b) => addOne(b, q0 + 64 + 64)),
  edit('selection proof z_1 + 1', 'bad_proof', (b) => addOne(b, q0 + 64 + 128 + 96)),
  edit('sum proof z + 1', 'bad_proof', (b) => addOne(b, sum0 + 96)),
  edit('beta replaced by alpha', 'bad_proof', (b) => b.copyWithin(q0 + 32, q0, q0 + 32)),
  edit('selections swapped', 'bad_proof', (b) => {
    const s0 = b.slice(q0, q0 + 320);
    b.copyWithin(q0, q0 + 320, q0 + 640);
    b.set(s0, q0 + 320);
  }),
  edit('style changed', 'bad_proof', (b) => { b[34] ^= 1; }),
  edit('sum proof from another ballot', 'bad_proof', (b) => b.set(other.subarray(sum0, sum0 + 128), sum0)),
  edit('identity alpha', 'malformed', (b) => b.fill(0, q0, q0 + 32)),
  edit('non-canonical scalar', 'malformed', (b) => b.fill(0xff, q0 + 64 + 96, q0 + 64 + 128)),
  edit('other manifest hash', 'wrong_manifest', (b) => { b[1] ^= 0x80; }),
  { name: 'trailing byte', error: 'malformed', binary: valid[0].binary + '00' },
];

const out = {
  description: 'JS → Go interop (docs/protocol.md §4): ballots made by crypto/js (dist/eballot.min.js) for manifest (copied from manifest_v1.json; manifest_hash = SHA-256(canonical)). valid: binary (hex §4.2), json (canonical JSON form), tracker (hex T), short_code, audit (choices and hex nonces r per selection, §4.4) — Go must parse, verify, re-encode identically, and accept the audit. invalid: tampered JS ballots that Go must reject with error kind malformed | wrong_manifest | bad_proof. Regenerate: node crypto/js/scripts/make-js-vectors.mjs.',
  generator: 'crypto/js/scripts/make-js-vectors.mjs',
  manifest,
  manifest_canonical: canonical,
  manifest_hash: E.toHex(mh),
  valid,
  invalid,
};
const file = join(TESTDATA, 'js_ballots_v1.json');
writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
console.log(`wrote ${file}: ${valid.length} valid, ${invalid.length} invalid ballots`);
