// Package js carries the browser build of the eBallot cryptography
// (dist/eballot.min.js, built from src/ by `make js`) so the service can
// serve it without Node.js at run time. Tests check that the committed
// bundle matches the sources.
package js

import _ "embed"

// Bundle is dist/eballot.min.js, an ES module.
//
//go:embed dist/eballot.min.js
var Bundle []byte

// VerifierBundle is dist/eballot-verifier.min.js, an ES module loaded only
// by the public verifier page (src/verifier.mjs).
//
//go:embed dist/eballot-verifier.min.js
var VerifierBundle []byte

// VerifyWorkerBundle is dist/eballot-verify-worker.min.js, an ES module the
// verifier bundle starts as Web Workers to check the entries on every core
// (src/verifyworker.mjs).
//
//go:embed dist/eballot-verify-worker.min.js
var VerifyWorkerBundle []byte

// RankedBundle is dist/eballot-ranked.min.js, an ES module for the voting
// page of a ballot with a ranked (STV) contest: everything of [Bundle] plus
// the ranked-ballot encryption (src/ranked-index.mjs), so members voting on
// yes/no questions never download the ranked code.
//
//go:embed dist/eballot-ranked.min.js
var RankedBundle []byte
