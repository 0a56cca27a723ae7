package issuance

import "github.com/unionvote/eballot/internal/erasure"

// Erasure is issuance's part of the erasure of a ballot's personal data
// (internal/erasure): replacements, "this wasn't me" reports and the marked
// register. Its Prepare keeps the counts per style (what
// /issuance/v1/{e}/counts publishes) in retention_style_counts before the
// register goes, from the ballot's register lines the register's part
// copied into retention_entries; retention stores them.
var Erasure = erasure.Part{
	Links: []string{"marked_register", "replacement_requests", "replaced_authorisations", "impersonation_reports"},
	Prepare: []string{
		`CREATE TEMPORARY TABLE retention_style_counts ON COMMIT DROP AS
		SELECT r.style, count(*) AS entitled,
		       count(*) FILTER (WHERE mr.channel = 'online') AS online,
		       count(*) FILTER (WHERE mr.channel IN ('postal', 'workplace')) AS postal,
		       (SELECT count(*) FROM replaced_authorisations ra JOIN retention_entries r2 ON r2.member_id = ra.member_id
		        WHERE ra.ballot_id = $1 AND r2.style = r.style) AS replaced
		FROM retention_entries r
		LEFT JOIN marked_register mr ON mr.ballot_id = $1 AND mr.member_id = r.member_id
		GROUP BY r.style`,
	},
	Steps: []erasure.Step{
		// Replacement of lost authorisations: member, reason, the old
		// authorisation (counts kept in retention_counts).
		{Table: "replaced_authorisations", SQL: `DELETE FROM replaced_authorisations WHERE ballot_id = $1 RETURNING *`},
		{Table: "replacement_requests", SQL: `DELETE FROM replacement_requests WHERE ballot_id = $1 RETURNING *`},
		// "This wasn't me" reports.
		{Table: "impersonation_reports", SQL: `DELETE FROM impersonation_reports WHERE ballot_id = $1 RETURNING *`},
		// The return log: paper numbers logged and refused marks, with their
		// outcome (the totals are public in the ledger's close of the paper
		// count, docs/paper.md).
		{Table: "mark_log", SQL: `DELETE FROM mark_log WHERE ballot_id = $1 RETURNING *`},
		// The marked register: who was authorised or returned a postal paper
		// (counts kept in retention_counts).
		{Table: "marked_register", SQL: `DELETE FROM marked_register WHERE ballot_id = $1 RETURNING *`},
	},
}
