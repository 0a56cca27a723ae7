// Benchmark of the phone's work for a two-question yes/no ballot, in Node:
// encrypt + prove (encryptBallot), encode, tracker, blind (prepare + blind);
// as a version-1 ballot, then (same run) as a compact version-3 ballot of
// protocol 7 (one ciphertext and one proof a question).
// Usage: node crypto/js/scripts/bench.mjs [iterations]   (target < 100 ms)
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const E = await import(join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'eballot.min.js'));
const N = Number(process.argv[2] ?? 20);

const issuer = await crypto.subtle.generateKey(
  { name: 'RSA-PSS', modulusLength: 2048, publicExponent: Uint8Array.of(1, 0, 1), hash: 'SHA-384' }, true, ['sign', 'verify']);
const spki = E.toBase64(new Uint8Array(await crypto.subtle.exportKey('spki', issuer.publicKey)));
const K = E.G.multiply(E.randomScalar());
const yn = (id) => ({ id, text: id, options: [{ id: 'yes', label: 'Yes' }, { id: 'no', label: 'No' }], min: 1, max: 1 });
const manifestOf = (compact) => ({
  version: compact ? 2 : 1, election_id: 'bench', kind: 'industrial_action', title: 'Bench', opens_at: '2026-11-01T09:00:00Z',
  closes_at: '2026-11-30T17:00:00Z', texts: {}, questions: [yn('strike'), yn('asos')].map((q) => (compact ? { ...q, method: 'compact' } : q)),
  styles: [{ id: 'main', name: 'Main', issuer_key: spki, entitled: 1 }],
  trustees: { threshold: 1, election_key: E.toHex(E.encodeElement(K)), public_keys: [E.toHex(E.encodeElement(K))] },
  log_key: 'x+00000000+AA==',
});
let manifest;
let mh;
const key = await E.importIssuerKey(spki);

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function once() {
  const c0 = cpuMs();
  const t0 = performance.now();
  const { ballot } = E.encryptBallot(manifest, mh, 0, [[1, 0], [0, 1]]);
  const t1 = performance.now();
  const bytes = E.encodeBallot(ballot);
  const T = E.tracker(mh, bytes);
  E.shortCode(T);
  const t2 = performance.now();
  await E.blindTracker(key, T);
  const t3 = performance.now();
  return { total: t3 - t0, encrypt: t1 - t0, tracker: t2 - t1, blind: t3 - t2, cpu: cpuMs() - c0 };
}

for (const compact of [false, true]) {
manifest = manifestOf(compact);
mh = E.manifestHash(manifest);
const first = await once(); // cold: no warmUp (worst case)
const runs = [];
for (let i = 0; i < N; i++) runs.push(await once());
const med = (k) => runs.map((r) => r[k]).sort((a, b) => a - b)[Math.floor(runs.length / 2)];
const f = (x) => x.toFixed(1).padStart(6);
console.log(compact
  ? `\ncompact (version 3): two yes/no questions (2 ciphertexts + 2 proofs), ${E.encodeBallot(E.encryptBallot(manifest, mh, 0, [[1, 0], [0, 1]]).ballot).length} bytes`
  : `node ${process.version}, ${N} runs, version 1: two yes/no questions (4 selections + 2 sum proofs), ${E.encodeBallot(E.encryptBallot(manifest, mh, 0, [[1, 0], [0, 1]]).ballot).length} bytes`);
console.log(`first run (cold):  total ${f(first.total)} ms wall, ${f(first.cpu)} ms CPU`);
console.log(`median:            total ${f(med('total'))} ms wall  = encrypt+prove ${f(med('encrypt'))} + encode+tracker ${f(med('tracker'))} + blind ${f(med('blind'))}`);
console.log(`median CPU time:   total ${f(med('cpu'))} ms (wall time is inflated on a loaded machine; CPU time is not)`);
console.log(`verify (scrutineer-style, for reference): ${f(await (async () => {
  const { ballot } = E.encryptBallot(manifest, mh, 0, [[1, 0], [0, 1]]);
  const t = performance.now();
  E.verifyBallot(manifest, mh, ballot);
  return performance.now() - t;
})())} ms`);
}
