package verify

import (
	"github.com/unionvote/eballot/crypto/export"
	"github.com/unionvote/eballot/crypto/paper"
)

// The named checks of docs/protocol.md §8, the one list that every verifier
// of this project runs (this package with crypto/report, and the browser's
// crypto/js/src/verifier.mjs): a failure names the check that failed, with
// the same name in Go and JavaScript. The order is the order of the table
// in docs/protocol.md §8.2 (a test compares them).
const (
	// File structure (crypto/export): a failure ends the reading.
	CheckFileEncoding       = export.CheckEncoding
	CheckFileLine           = export.CheckLine
	CheckFileOrder          = export.CheckOrder
	CheckFileEnd            = export.CheckEnd
	CheckHeaderVersion      = export.CheckVersion
	CheckHeaderField        = export.CheckHeader
	CheckManifestEncoding   = export.CheckManifestEncoding
	CheckCheckpointEncoding = export.CheckCheckpointEncoding
	CheckEntryEncoding      = export.CheckEntryEncoding
	CheckEndEncoding        = export.CheckEndEncoding
	CheckEndTotals          = export.CheckEndTotals
	CheckPaperEncoding      = export.CheckPaperEncoding

	// The manifest and the header.
	CheckManifestHash     = "manifest.hash"
	CheckManifestValid    = "manifest.valid"
	CheckManifestTrustees = "manifest.trustees"
	CheckHeaderManifest   = "header.manifest"
	CheckManifestExpected = "manifest.expected"

	// Checkpoints and the close.
	CheckCheckpointSignature = "checkpoint.signature"
	CheckCheckpointText      = "checkpoint.text"
	CheckCheckpointOrigin    = "checkpoint.origin"
	CheckCheckpointLine      = "checkpoint.line"
	CheckCheckpointRoot      = "checkpoint.root"
	CheckCheckpointFinal     = "checkpoint.final"
	CheckFinalExpected       = "final.expected"

	// Entries.
	CheckEntryBallot        = "entry.ballot"
	CheckEntryHint          = "entry.hint"
	CheckEntryTracker       = "entry.tracker"
	CheckEntryStyle         = "entry.style"
	CheckEntryAuthorisation = "entry.authorisation"
	CheckEntryProof         = "entry.proof"
	CheckEntryDupTracker    = "entry.duplicate_tracker"
	CheckEntryDupAlpha      = "entry.duplicate_alpha"

	// The end line.
	CheckEndRoot        = "end.root"
	CheckEndStyleCounts = "end.style_counts"

	// Counts against the register and the marked register.
	CheckCountsEntitled  = "counts.entitled"
	CheckCountsPublished = "counts.published"
	CheckCountsIssued    = "counts.issued"
	CheckCountsIssuedMax = "counts.issued_entitled"

	// The paper section (version 3, docs/protocol.md §10; crypto/paper).
	// crypto/paper's batch.after_close is not among them: in an export a
	// line after the paper close fails file.order first.
	CheckBatchEncoding  = paper.CheckBatchEncoding
	CheckBatchSignature = paper.CheckBatchSignature
	CheckBatchElection  = paper.CheckBatchElection
	CheckBatchChain     = paper.CheckBatchChain
	CheckBatchDuplicate = paper.CheckBatchDuplicate
	CheckBatchStyle     = paper.CheckBatchStyle
	CheckBatchKeyers    = paper.CheckBatchKeyers
	CheckBatchKeyings   = paper.CheckBatchKeyings
	CheckBatchTotals    = paper.CheckBatchTotals
	CheckCloseEncoding  = paper.CheckCloseEncoding
	CheckCloseSignature = paper.CheckCloseSignature
	CheckCloseChain     = paper.CheckCloseChain
	CheckCloseStyles    = paper.CheckCloseStyles
	CheckPaperReturned  = paper.CheckReturned
	// CheckPaperMarked: ballots + paper votes ≤ marked register
	// (authorisations issued + papers returned); CheckPaperEntitled: the
	// marked register and the votes ≤ entitled.
	CheckPaperMarked   = "counts.paper_marked"
	CheckPaperEntitled = "counts.paper_entitled"

	// The trustees' partial decryptions (crypto/report).
	CheckPartialDecode    = "partial.decode"
	CheckPartialTrustee   = "partial.trustee"
	CheckPartialManifest  = "partial.manifest"
	CheckPartialCount     = "partial.count"
	CheckPartialProof     = "partial.proof"
	CheckPartialThreshold = "partials.threshold"

	// The scrutineer's signed result and report (crypto/report).
	CheckResultKey         = "result.key"
	CheckResultSignature   = "result.signature"
	CheckResultDecode      = "result.decode"
	CheckResultSigner      = "result.signer"
	CheckResultElection    = "result.election"
	CheckResultManifest    = "result.manifest"
	CheckResultFinal       = "result.final"
	CheckResultLedger      = "result.ledger"
	CheckResultIssued      = "result.issued"
	CheckResultTrustees    = "result.trustees"
	CheckResultCounts      = "result.counts"
	CheckResultDerived     = "result.derived"
	CheckResultParticulars = "result.particulars"
	CheckResultStatements  = "result.statements"
)

// Checks lists every check name, in the order of docs/protocol.md §8.2.
var Checks = []string{
	CheckFileEncoding, CheckFileLine, CheckFileOrder, CheckFileEnd, CheckHeaderVersion, CheckHeaderField,
	CheckManifestEncoding, CheckCheckpointEncoding, CheckEntryEncoding, CheckEndEncoding, CheckEndTotals, CheckPaperEncoding,
	CheckManifestHash, CheckManifestValid, CheckManifestTrustees, CheckHeaderManifest, CheckManifestExpected,
	CheckCheckpointSignature, CheckCheckpointText, CheckCheckpointOrigin, CheckCheckpointLine, CheckCheckpointRoot,
	CheckCheckpointFinal, CheckFinalExpected,
	CheckEntryBallot, CheckEntryHint, CheckEntryTracker, CheckEntryStyle, CheckEntryAuthorisation, CheckEntryProof,
	CheckEntryDupTracker, CheckEntryDupAlpha,
	CheckEndRoot, CheckEndStyleCounts,
	CheckCountsEntitled, CheckCountsPublished, CheckCountsIssued, CheckCountsIssuedMax,
	CheckBatchEncoding, CheckBatchSignature, CheckBatchElection, CheckBatchChain, CheckBatchDuplicate, CheckBatchStyle,
	CheckBatchKeyers, CheckBatchKeyings, CheckBatchTotals,
	CheckCloseEncoding, CheckCloseSignature, CheckCloseChain, CheckCloseStyles,
	CheckPaperReturned, CheckPaperMarked, CheckPaperEntitled,
	CheckPartialDecode, CheckPartialTrustee, CheckPartialManifest, CheckPartialCount, CheckPartialProof, CheckPartialThreshold,
	CheckResultKey, CheckResultSignature, CheckResultDecode, CheckResultSigner, CheckResultElection, CheckResultManifest,
	CheckResultFinal, CheckResultLedger, CheckResultIssued, CheckResultTrustees, CheckResultCounts, CheckResultDerived,
	CheckResultParticulars, CheckResultStatements,
}

// What a verification could not establish from what it was given
// (docs/protocol.md §8.3). They are not failures: a verifier MUST say them.
const (
	// LimitManifestHash: no expected manifest hash was given, so nothing
	// shows that this manifest is the one the voters were shown.
	LimitManifestHash = "limit.manifest_hash"
	// LimitFinal: the export is closed and its close is signed by the
	// ledger, but no expected final checkpoint (the scrutineer's report,
	// or one given by hand) was given: nothing shows that it is the final
	// ledger everyone else sees, rather than an earlier tree the ledger
	// key signed as closed.
	LimitFinal = "limit.final"
	// LimitOpen: the export is of a ledger not (yet) closed: a snapshot,
	// it cannot show that no ballot came after.
	LimitOpen = "limit.open"
	// LimitUnsignedClose: a version 1 export says it is closed, but the
	// close of version 1 was not signed: only an expected final checkpoint
	// shows it is complete.
	LimitUnsignedClose = "limit.unsigned_close"
	// LimitIssued: the authorisations issued per ballot style were not
	// given: ballots were checked against the number entitled only.
	LimitIssued = "limit.issued"
	// LimitResult: no signed result was given: the count was not checked.
	LimitResult = "limit.result"
)

// Limits lists every limit name, in the order of docs/protocol.md §8.3.
var Limits = []string{LimitManifestHash, LimitFinal, LimitOpen, LimitUnsignedClose, LimitIssued, LimitResult}

// Groups are the groups of checks a verifier shows (the verifier page's
// sections), in order.
var Groups = []string{"file", "manifest", "checkpoints", "entries", "counts", "paper", "partials", "result"}

// GroupOf returns the group of a check (docs/protocol.md §8.2).
func GroupOf(check string) string {
	switch check {
	case CheckFileEncoding, CheckFileLine, CheckFileOrder, CheckFileEnd, CheckHeaderVersion, CheckHeaderField,
		CheckManifestEncoding, CheckCheckpointEncoding, CheckEntryEncoding, CheckEndEncoding, CheckEndTotals, CheckPaperEncoding:
		return "file"
	case CheckManifestHash, CheckManifestValid, CheckManifestTrustees, CheckHeaderManifest, CheckManifestExpected:
		return "manifest"
	case CheckCheckpointSignature, CheckCheckpointText, CheckCheckpointOrigin, CheckCheckpointLine, CheckCheckpointRoot,
		CheckCheckpointFinal, CheckFinalExpected, CheckEndRoot:
		return "checkpoints"
	case CheckEntryBallot, CheckEntryHint, CheckEntryTracker, CheckEntryStyle, CheckEntryAuthorisation, CheckEntryProof, CheckEntryDupTracker, CheckEntryDupAlpha:
		return "entries"
	case CheckEndStyleCounts, CheckCountsEntitled, CheckCountsPublished, CheckCountsIssued, CheckCountsIssuedMax:
		return "counts"
	case CheckBatchEncoding, CheckBatchSignature, CheckBatchElection, CheckBatchChain, CheckBatchDuplicate, CheckBatchStyle,
		CheckBatchKeyers, CheckBatchKeyings, CheckBatchTotals,
		CheckCloseEncoding, CheckCloseSignature, CheckCloseChain, CheckCloseStyles,
		CheckPaperReturned, CheckPaperMarked, CheckPaperEntitled:
		return "paper"
	case CheckPartialDecode, CheckPartialTrustee, CheckPartialManifest, CheckPartialCount, CheckPartialProof, CheckPartialThreshold:
		return "partials"
	}
	return "result"
}
