// The ranked recount on Web Workers (src/pool.mjs, src/verifyworker.mjs):
// the worker bundle dist/eballot-verify-worker.min.js run in Node's
// worker_threads behind a Web Worker's interface, as a page runs it. The
// verdicts and the named failures are those of the recount in one thread,
// for the honest folder and every case of the shared tamper vectors
// (crypto/testdata/ranked_tamper_v1.json); a worker that cannot start
// leaves the work to the page with the same verdict.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker as ThreadWorker } from 'node:worker_threads';
import { JS_DIR, TESTDATA } from '../testlib/helpers.mjs';

const V = await import(join(JS_DIR, 'dist', 'eballot-verifier.min.js'));
const WORKER = join(JS_DIR, 'dist', 'eballot-verify-worker.min.js');

// A Web Worker (new Worker(url, {type: 'module'}), postMessage, onmessage,
// onerror, terminate) on a Node thread that loads the bundle at url with
// a `self` of the worker scope (a bundle that cannot be loaded: the
// thread dies with an error, as a browser's worker does).
class WebWorker {
  constructor(url) {
    const boot = `
      const { parentPort } = require('node:worker_threads');
      globalThis.self = { postMessage: (m) => parentPort.postMessage(m) };
      // Held until the bundle has run, as a browser holds a module worker's messages.
      const held = [];
      parentPort.on('message', (data) => (self.onmessage ? self.onmessage({ data }) : held.push(data)));
      import(${JSON.stringify(pathToFileURL(url).href)}).then(() => { for (const data of held.splice(0)) self.onmessage({ data }); });`;
    this.t = new ThreadWorker(boot, { eval: true });
    this.t.on('message', (data) => this.onmessage?.({ data }));
    this.t.on('error', (e) => this.onerror?.({ error: e, preventDefault() {} }));
  }

  postMessage(m) { this.t.postMessage(m); }

  terminate() { this.t.terminate(); }
}

const D = join(TESTDATA, 'ranked_count_v1');
const bin = (f) => new Uint8Array(readFileSync(join(D, f)));
const summary = (r) => ({ ok: r.ok, failures: r.failures, count: r.count, rankings: r.rankings });

test('ranked_tamper_v1.json: the recount in two workers names what the recount in one thread names', async () => {
  globalThis.Worker = WebWorker;
  try {
    const v = JSON.parse(readFileSync(join(TESTDATA, 'ranked_tamper_v1.json'), 'utf8'));
    const hex = (h) => new Uint8Array(Buffer.from(h, 'hex'));
    for (const tc of v.cases) {
      const file = (name) => (tc.files[name] ? hex(tc.files[name]) : bin(name));
      const contest = JSON.parse(readFileSync(join(D, 'contest.json'), 'utf8'));
      for (const [k, h] of Object.entries(tc.ballots)) contest.ballots[Number(k) - 1] = h;
      const files = {
        contest: JSON.stringify(contest),
        mixes: [1, 2].map((t) => ({ list: file(`mix-${t}.list`), proof: file(`mix-${t}.proof`) })),
        decryptions: [file('decrypt-1.bin'), file('decrypt-3.bin')],
        result: readFileSync(join(D, 'result.json'), 'utf8'),
      };
      const progress = [];
      const par = await V.recountRanked(files, { workers: { url: WORKER, n: 2 }, onProgress: (p) => progress.push(p) });
      const one = await V.recountRanked(files);
      assert.deepEqual(summary(par), summary(one), tc.name);
      assert.equal(par.parallel.workers, 2, tc.name);
      assert.equal(par.parallel.inPage, 0, `${tc.name}: every job done in a worker`);
      assert.ok(par.parallel.inWorkers >= 3, `${tc.name}: ${par.parallel.inWorkers} jobs in workers`);
      assert.equal(one.parallel.workers, 0);
      assert.deepEqual(progress.filter((p) => p.phase === 'ballots').at(-1), { phase: 'ballots', done: 24, total: 24 }, tc.name);
      assert.deepEqual(progress.filter((p) => p.phase === 'mixes').at(-1), { phase: 'mixes', done: 2, total: 2 }, tc.name);
    }
  } finally {
    delete globalThis.Worker;
  }
});

test('a worker bundle that cannot be loaded: every job is done in the page, with the same verdict', async () => {
  globalThis.Worker = WebWorker;
  try {
    const files = {
      contest: readFileSync(join(D, 'contest.json'), 'utf8'),
      mixes: [1, 2].map((t) => ({ list: bin(`mix-${t}.list`), proof: bin(`mix-${t}.proof`) })),
      decryptions: [bin('decrypt-1.bin'), bin('decrypt-3.bin')],
      result: readFileSync(join(D, 'result.json'), 'utf8'),
    };
    const r = await V.recountRanked(files, { workers: { url: join(JS_DIR, 'no-such-worker.js'), n: 2 } });
    assert.equal(r.ok, true, JSON.stringify(r.failures));
    assert.equal(r.parallel.inWorkers, 0);
    assert.ok(r.parallel.inPage >= 3);
  } finally {
    delete globalThis.Worker;
  }
});
