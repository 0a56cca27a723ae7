// CPU time of the browser verifier (verifyElection, in this thread, no
// workers) on export files, in Node: e.g. the same ballots as export
// version 4 (decompression hints) and version 2 (none).
// Usage: node crypto/js/scripts/bench-verifier.mjs A.jsonl [B.jsonl …]
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const V = await import(join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'eballot-verifier.min.js'));
for (const round of [1, 2, 3]) {
  for (const f of process.argv.slice(2)) {
    const text = readFileSync(f, 'utf8');
    const t = process.cpuUsage();
    const out = await V.verifyElection({ export: text });
    const c = process.cpuUsage(t);
    const n = (text.match(/"type":"entry"/g) ?? []).length;
    console.log(`round ${round} ${f}: ${n} ballots, ${((c.user + c.system) / 1e6).toFixed(2)} CPU-s, ${((c.user + c.system) / n / 1000).toFixed(2)} CPU-ms a ballot, failed [${out.failed.join(' ')}]`);
  }
}
