// The tamper corpus crypto/testdata/tamper_v2.json: a case's verifier input.

/** The verifier's input for a case: its base's, overridden, the export edited. */
export function caseInput(corpus, c) {
  const m = { ...corpus.bases[c.base] };
  for (const [k, v] of Object.entries(c.inputs ?? {})) {
    if (v === null) delete m[k];
    else m[k] = v;
  }
  const exp = m.export_b64 !== undefined ? Uint8Array.from(Buffer.from(m.export_b64, 'base64')) : applyEdits(m.export, c.edits);
  if (m.report !== undefined) m.report = applyEdits(m.report, c.report_edits);
  const x = m.expected;
  return {
    export: exp,
    issued: m.issued ?? null,
    counts: m.counts ?? null,
    report: m.report ?? null,
    signature: m.signature ?? null,
    partials: m.partials ?? null,
    key: m.key ?? '',
    expected: x ? { electionId: x.election_id, manifestHash: x.manifest_hash, final: x.final_size !== undefined ? { size: x.final_size, root: x.final_root } : undefined } : {},
  };
}

/** Edits a text line by line (crypto/internal/gencorpus Edit). */
function applyEdits(text, edits) {
  if (!edits?.length) return text;
  const ls = text.split('\n').slice(0, -1).map((l) => l + '\n');
  for (const e of edits) {
    if (e.op === 'replace') ls[e.line] = e.text;
    else if (e.op === 'delete') ls.splice(e.line, 1);
    else ls.splice(e.line, 0, e.text);
  }
  return ls.join('');
}
