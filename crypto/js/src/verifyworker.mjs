// A Web Worker of the whole-election verifier (src/verifier.mjs): it checks
// batches of entries with src/entries.mjs so that a page verifies on every
// core. Its own bundle (dist/eballot-verify-worker.min.js), started by
// verifyElection when the page gives it the bundle's URL.
//
// Messages in: {manifest: Uint8Array} once, then {id, entries: [{index,
// style, bytes}]}; out: {id, result} (checkEntries) or {id, error}. They are
// handled one after the other, in the order they came.
import { checkEntries, entryContext } from './entries.mjs';

let ctx = null;
let chain = Promise.resolve();

self.onmessage = (ev) => {
  const m = ev.data;
  chain = chain.then(async () => {
    if (m.manifest) {
      ctx = entryContext(m.manifest);
      return;
    }
    try {
      self.postMessage({ id: m.id, result: await checkEntries(await ctx, m.entries) });
    } catch (e) {
      self.postMessage({ id: m.id, error: String(e?.message ?? e) });
    }
  });
};
