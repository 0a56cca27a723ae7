// The paper section (docs/protocol.md §10) in the browser verifier, on the
// shared vector crypto/testdata/paper_v1.json made by Go's crypto/paper:
// every case names the same failures, counts the same batches and sums
// the same totals as the Go counter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { JS_DIR, need } from '../testlib/helpers.mjs';

const V = await import(join(JS_DIR, 'dist', 'eballot-verifier.min.js'));
const b64 = (s) => Uint8Array.from(Buffer.from(s, 'base64'));

test('paper_v1: the same named failures and sums as Go', (t) => {
  const v = need(t, 'paper_v1.json');
  if (!v) return;
  const manifest = JSON.parse(v.manifest);
  assert.ok(v.cases.length >= 10);
  for (const c of v.cases) {
    const ctr = new V.PaperCounter(manifest);
    const got = [];
    for (const l of c.lines) {
      const fs = l.kind === 'batch' ? ctr.batch(b64(l.bytes), l.note) : ctr.close(b64(l.bytes), l.note);
      for (const f of fs) got.push({ check: f.check, seq: f.seq, style: f.style });
    }
    const fin = ctr.finish();
    for (const f of fin.failures) got.push({ check: f.check, seq: f.seq, style: f.style });
    assert.deepEqual(got, c.failures, c.name);
    assert.equal(fin.closed, c.closed, c.name);
    assert.equal(ctr.counted, c.counted, c.name);
    for (const s of c.sums) assert.deepEqual(ctr.totals(s.style, s.channel), s.totals, `${c.name}: sums ${s.style}/${s.channel}`);
  }
});
