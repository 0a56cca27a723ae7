package gotv

import "github.com/unionvote/eballot/internal/sms"

// The SMS part counting lives in internal/sms (invitation texts use it
// too); these names keep gotv's callers and tests as they were.
type (
	// Encoding is the character set an SMS is sent in.
	Encoding = sms.Encoding
	// Segments describes how a message body is split into SMS parts.
	Segments = sms.Segments
)

// SMS encodings (3GPP TS 23.038).
const (
	GSM7 = sms.GSM7
	UCS2 = sms.UCS2
)

// CountSegments is [sms.CountSegments].
func CountSegments(body string) Segments { return sms.CountSegments(body) }
