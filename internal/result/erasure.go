package result

import "github.com/unionvote/eballot/internal/erasure"

// Erasure is the share of the duties after the close in the erasure of a
// ballot's personal data (internal/retention): its notices (which member
// was sent what; the outbox rows go with gotv's share) and the log of
// requests for a copy of the report (which member asked). The plans
// (counts only) and the employers' addresses (not members' data) are kept.
var Erasure = erasure.Part{
	Links: []string{"result_notices", "result_report_requests"},
	Steps: []erasure.Step{
		{Table: "result_notices", SQL: `DELETE FROM result_notices WHERE ballot_id = $1 RETURNING *`},
		{Table: "result_report_requests", SQL: `DELETE FROM result_report_requests WHERE ballot_id = $1 RETURNING *`},
	},
}
