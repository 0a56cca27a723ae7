// The committed bundle dist/eballot.min.js must be exactly what `npm run build` makes now.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUNDLE, JS_DIR } from '../testlib/helpers.mjs';

test('dist/eballot.min.js is up to date with src/ (reproducible build)', (t) => {
  const esbuild = join(JS_DIR, 'node_modules', '.bin', 'esbuild');
  if (!existsSync(esbuild)) {
    t.skip('node_modules absent: run `npm ci` in crypto/js to check the bundle is fresh');
    return;
  }
  const script = JSON.parse(readFileSync(join(JS_DIR, 'package.json'), 'utf8')).scripts.build;
  const args = script.split(/\s+/).slice(1);
  assert.equal(script.split(/\s+/)[0], 'esbuild');
  const dir = mkdtempSync(join(tmpdir(), 'eballot-bundle-'));
  try {
    const out = join(dir, 'eballot.min.js');
    const a = args.map((x) => (x.startsWith('--outfile=') ? `--outfile=${out}` : x));
    execFileSync(esbuild, a, { cwd: JS_DIR, stdio: 'pipe' });
    const fresh = readFileSync(out);
    const committed = readFileSync(BUNDLE);
    assert.ok(fresh.equals(committed), 'dist/eballot.min.js is stale: run `make js` (or `npm run build` in crypto/js) and commit it');
    // Same input, same bytes: a second build is identical.
    execFileSync(esbuild, a, { cwd: JS_DIR, stdio: 'pipe' });
    assert.ok(readFileSync(out).equals(fresh), 'esbuild output is not reproducible');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
