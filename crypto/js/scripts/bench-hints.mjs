// Benchmark of ristretto255 decoding in the browser verifier's code, in
// Node: Point.fromBytes (an inverse square root by exponentiation) against
// decodeElementHinted (the hint checked, docs/protocol.md §4.5), on every
// group element of the ballot_v1.json vectors with their Go hints.
// Usage: node crypto/js/scripts/bench-hints.mjs [iterations] (CPU time).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeElement, decodeElementHinted } from '../src/group.mjs';

const dir = dirname(fileURLToPath(import.meta.url));
const v = JSON.parse(readFileSync(join(dir, '..', '..', 'testdata', 'ballot_v1.json'), 'utf8'));
const hex = (s) => Uint8Array.from(s.match(/../g).map((x) => parseInt(x, 16)));
const els = [];
const hs = [];
for (const b of v.valid) {
  const bin = hex(b.binary);
  const h = hex(b.hints);
  els.push(bin.subarray(39, 71)); // α of the first selection
  hs.push(h.subarray(0, 32));
}
const N = Number(process.argv[2] ?? 3000);
for (const round of [1, 2, 3]) {
  let t = process.cpuUsage();
  for (let i = 0; i < N; i++) decodeElement(els[i % els.length]);
  const full = process.cpuUsage(t).user / N;
  t = process.cpuUsage();
  for (let i = 0; i < N; i++) decodeElementHinted(els[i % els.length], hs[i % els.length]);
  const hinted = process.cpuUsage(t).user / N;
  console.log(`round ${round}: Point.fromBytes ${full.toFixed(1)} µs, hinted ${hinted.toFixed(1)} µs (CPU per element), ${(full / hinted).toFixed(1)}×`);
}
