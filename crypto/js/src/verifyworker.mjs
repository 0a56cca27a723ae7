// A Web Worker of the browser verifiers: it checks batches of entries of
// an export with src/entries.mjs for the whole-election verifier
// (src/verifier.mjs), and batches of ranked ballots, mixers' shuffles and
// trustees' decryptions with src/rankedcount.mjs for the ranked recount
// (recountRanked), so that a page verifies on every core. Its own bundle
// (dist/eballot-verify-worker.min.js), started (src/pool.mjs) when the
// page gives the bundle's URL.
//
// Messages in: {manifest: Uint8Array} or {ranked: contest file without its
// ballots (contestHeader)} once, then jobs: {id, entries: [{index, style,
// bytes}]} (checkEntries), {id, ballots: [{ballot, hex}]}
// (checkBallotBatch), {id, mixer, prev, list, proof} (checkMixerBytes) or
// {id, final, decryption} (checkDecryptionBytes);
// out: {id, result} or {id, error}. They are handled one after the
// other, in the order they came.
import { checkEntries, entryContext } from './entries.mjs';
import { checkBallotBatch, checkDecryptionBytes, checkMixerBytes, parseRankedContest } from './rankedcount.mjs';

let ctx = null;
let contest = null;
let chain = Promise.resolve();

self.onmessage = (ev) => {
  const m = ev.data;
  chain = chain.then(async () => {
    if (m.manifest) {
      ctx = entryContext(m.manifest);
      return;
    }
    if (m.ranked) {
      try {
        contest = parseRankedContest(m.ranked);
      } catch {
        contest = null; // every job then fails here and is done in the page
      }
      return;
    }
    try {
      let result;
      if (m.entries) result = await checkEntries(await ctx, m.entries);
      else if (!contest) throw new Error('no contest');
      else if (m.ballots) result = checkBallotBatch(contest, m.ballots);
      else if (m.decryption) result = checkDecryptionBytes(contest, m.final, m.decryption);
      else result = checkMixerBytes(contest, m.mixer, m.prev, m);
      self.postMessage({ id: m.id, result });
    } catch (e) {
      self.postMessage({ id: m.id, error: String(e?.message ?? e) });
    }
  });
};
