package election

import "github.com/unionvote/eballot/internal/erasure"

// Erasure is the ballot's part of the erasure of its personal data
// (internal/erasure): the sealed RSA issuer private keys of its styles. No
// authorisation is issued after the close, and the key could mint
// authorisations that match the marked register's blind signatures. The
// public keys stay (they are in the manifest).
var Erasure = erasure.Part{
	Steps: []erasure.Step{
		{Table: "ballot_styles.issuer_private", SQL: `UPDATE ballot_styles s SET issuer_private = '\x'
		FROM (SELECT ballot_id, style, sha256(issuer_private) AS h FROM ballot_styles WHERE ballot_id = $1 AND length(issuer_private) > 0) o
		WHERE s.ballot_id = o.ballot_id AND s.style = o.style
		RETURNING s.ballot_id, s.style, encode(o.h, 'hex') AS sealed_sha256`},
	},
}
