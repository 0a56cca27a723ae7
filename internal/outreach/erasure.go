package outreach

import "github.com/unionvote/eballot/internal/erasure"

// Erasure is outreach's share of the erasure of a ballot's personal data
// (internal/retention, docs/ballots.md "Retention and deletion"): the
// volunteers' conversations with members of the ballot — the organiser's
// queue, tags, texts and replies, and the conversations themselves
// (member, keyed hash of the number). They go before gotv_messages (texts
// point at the outbox rows). Approvals, campaigns and volunteers are kept:
// they hold no member's data.
var Erasure = erasure.Part{
	Links: []string{"outreach_conversations"},
	Steps: []erasure.Step{
		{Table: "outreach_queue", SQL: `DELETE FROM outreach_queue WHERE conversation_id IN
			(SELECT id FROM outreach_conversations WHERE ballot_id = $1) RETURNING *`},
		{Table: "outreach_tags", SQL: `DELETE FROM outreach_tags WHERE conversation_id IN
			(SELECT id FROM outreach_conversations WHERE ballot_id = $1) RETURNING *`},
		{Table: "outreach_messages", SQL: `DELETE FROM outreach_messages WHERE conversation_id IN
			(SELECT id FROM outreach_conversations WHERE ballot_id = $1) RETURNING *`},
		{Table: "outreach_conversations", SQL: `DELETE FROM outreach_conversations WHERE ballot_id = $1 RETURNING *`},
	},
}
