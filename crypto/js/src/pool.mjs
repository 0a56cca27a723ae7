// A pool of Web Workers started from one bundle (the verifier's worker,
// src/verifyworker.mjs), shared by the export verifier (src/verifier.mjs,
// batches of entries) and the ranked recount (src/rankedcount.mjs, batches
// of ballots). Each job goes to the next live worker in turn; a job a
// worker cannot do (it failed to start, threw, or died) is done in the
// page by local(job): the result is the same, only slower.

/**
 * workerPool({url, n}, init, local): starts min(n, 16) workers from url
 * when given and the platform has them, sends each the message init, and
 * returns {parallel (the workers started, 0: all in the page), stats
 * ({workers, inWorkers, inPage}: jobs done in workers and in the page),
 * run(job, msg) (a promise of the answer to {id, ...msg} of the worker
 * with the fewest jobs in flight, or of local(job)), close()}. A worker answers {id, result} or {id, error}.
 */
export function workerPool(workers, init, local) {
  const stats = { workers: 0, inWorkers: 0, inPage: 0 };
  const inPage = (job) => { stats.inPage++; return local(job); };
  const pool = [];
  if (workers?.url && typeof Worker === 'function') {
    const n = Math.max(1, Math.min(16, Math.floor(workers.n) || 1));
    try {
      for (let i = 0; i < n; i++) {
        const w = { worker: new Worker(workers.url, { type: 'module' }), jobs: new Map(), dead: false };
        const lost = () => {
          w.dead = true;
          w.worker.terminate();
          for (const j of w.jobs.values()) j.resolve(inPage(j.job));
          w.jobs.clear();
        };
        w.worker.onmessage = (ev) => {
          const j = w.jobs.get(ev.data.id);
          if (!j) return;
          w.jobs.delete(ev.data.id);
          if (ev.data.error === undefined) stats.inWorkers++;
          j.resolve(ev.data.error === undefined ? ev.data.result : inPage(j.job));
        };
        w.worker.onerror = (ev) => { ev.preventDefault?.(); lost(); };
        w.worker.onmessageerror = lost;
        w.worker.postMessage(init);
        pool.push(w);
      }
    } catch {
      for (const w of pool) w.worker.terminate();
      pool.length = 0;
    }
  }
  let next = 0;
  let id = 0;
  stats.workers = pool.length;
  return {
    parallel: pool.length,
    stats,
    run(job, msg) {
      const live = pool.filter((w) => !w.dead);
      if (live.length === 0) return Promise.resolve(inPage(job));
      // The worker with the fewest jobs in flight (the next in turn on a tie).
      const start = next++;
      let w = live[start % live.length];
      for (let k = 1; k < live.length; k++) {
        const x = live[(start + k) % live.length];
        if (x.jobs.size < w.jobs.size) w = x;
      }
      return new Promise((resolve) => {
        const jid = id++;
        w.jobs.set(jid, { job, resolve });
        w.worker.postMessage({ id: jid, ...msg });
      });
    },
    close() { for (const w of pool) w.worker.terminate(); },
  };
}
