// Timing of the JS STV count (src/stv.mjs, verifier bundle): 100,000 random
// rankings of 10 candidates, 4 seats, under each rule — the shape of Go's
// BenchmarkCount (crypto/stv/bench_test.go; a different random stream).
// Then the whole recount of the published folder
// crypto/testdata/ranked_count_v1 (24 ballots of 4 candidates, 2 shuffles,
// 2 decryptions): the ballots' proofs, the mix input, every shuffle, the
// decryptions, the count (recountRanked), and its phases on their own.
// Usage: node crypto/js/scripts/bench-stv.mjs   (after make js)
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const V = await import(join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'eballot-verifier.min.js'));
let s = 100000;
const rnd = (n) => {
  s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0;
  return s % n;
};
const ballots = [];
for (let i = 0; i < 100000; i++) {
  const perm = [...Array(10).keys()];
  for (let j = 9; j > 0; j--) {
    const k = rnd(j + 1);
    [perm[j], perm[k]] = [perm[k], perm[j]];
  }
  if (rnd(4) === 0) [perm[0], perm[3]] = [perm[3], perm[0]];
  ballots.push({ weight: 1, prefs: perm.slice(0, 1 + rnd(10)) });
}
const e = { candidates: 10, seats: 4, ballots };
for (const rule of ['ers97', 'meek']) {
  V.countSTV(rule, e);
  const t = performance.now();
  const r = V.countSTV(rule, e);
  console.log(`${rule}: 100,000 rankings of 10 candidates, 4 seats: ${(performance.now() - t).toFixed(0)} ms, ${r.stages.length} stages`);
}

const D = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'testdata', 'ranked_count_v1');
const bin = (f) => new Uint8Array(readFileSync(join(D, f)));
const files = {
  contest: readFileSync(join(D, 'contest.json'), 'utf8'), result: readFileSync(join(D, 'result.json'), 'utf8'),
  mixes: [1, 2].map((t) => ({ list: bin(`mix-${t}.list`), proof: bin(`mix-${t}.proof`) })), decryptions: [bin('decrypt-1.bin'), bin('decrypt-3.bin')],
};
const time = (f) => { const t = performance.now(); const r = f(); return [performance.now() - t, r]; };
await V.recountRanked(files); // warm: generators, decryption table
const t0 = performance.now();
const r = await V.recountRanked(files);
const all = performance.now() - t0;
const c = V.parseRankedContest(files.contest);
const [tb, { valid }] = time(() => V.verifyContestBallots(c));
const input = V.mixInput(c, valid);
const [ts] = time(() => V.verifyMixes(c, input, files.mixes));
console.log(`recount of ranked_count_v1 (24 ballots of 4 candidates, 2 shuffles, 2 decryptions): ${all.toFixed(0)} ms (ok: ${r.ok}); `
  + `of which the 24 ballots' proofs ${tb.toFixed(0)} ms, the 2 shuffles ${ts.toFixed(0)} ms`);
