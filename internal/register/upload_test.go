package register_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/unionvote/eballot/internal/pgtest"
	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/register/registertest"
)

// A previewed register file waits sealed (issue 21, docs/threat-model.md
// "Data at rest"): its names and numbers are not in the table's bytes, it
// reads back whole, saving it again keeps one row that still opens, a
// file moved to another ballot's or digest's row does not open, and one
// left in clear (or under another key) is treated as gone.
func TestUploadIsSealed(t *testing.T) {
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	f := registertest.New(t, pool, "uploads", false)
	g := registertest.New(t, pool, "uploads-other", false)
	reg := register.NewStore(pool, registertest.Key)
	content := []byte(regFirst)
	sum := sha256.Sum256(content)
	must(t, reg.SaveUpload(ctx, f.BallotID, sum, content, "organiser:1"))
	must(t, reg.SaveUpload(ctx, f.BallotID, sum, content, "organiser:1")) // previewed twice
	var n, clear int
	must(t, pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE position(convert_to('Aled Jones', 'UTF8') IN content) > 0
		OR position(convert_to('M1,', 'UTF8') IN content) > 0) FROM register_uploads`).Scan(&n, &clear))
	if n != 1 || clear != 0 {
		t.Fatalf("%d upload rows, %d holding the file in clear; want 1, 0", n, clear)
	}
	got, err := reg.Upload(ctx, f.BallotID, sum[:])
	must(t, err)
	if !bytes.Equal(got, content) {
		t.Fatalf("upload read back as %q", got)
	}
	if _, err := reg.Upload(ctx, g.BallotID, sum[:]); !errors.Is(err, register.ErrNoUpload) {
		t.Fatalf("another ballot's upload: %v, want ErrNoUpload", err)
	}
	// Moved to the other ballot's row: does not open there.
	_, err = pool.Exec(ctx, `INSERT INTO register_uploads (ballot_id, sha256, content, uploaded_by)
		SELECT $1, sha256, content, uploaded_by FROM register_uploads WHERE ballot_id = $2`, g.BallotID, f.BallotID)
	must(t, err)
	if _, err := reg.Upload(ctx, g.BallotID, sum[:]); !errors.Is(err, register.ErrNoUpload) {
		t.Fatalf("a sealed upload moved to another ballot: %v, want ErrNoUpload", err)
	}
	// Under another key: gone.
	other := register.NewStore(pool, bytes.Repeat([]byte{7}, 32))
	if _, err := other.Upload(ctx, f.BallotID, sum[:]); !errors.Is(err, register.ErrNoUpload) {
		t.Fatalf("an upload opened under another key: %v, want ErrNoUpload", err)
	}
	// In clear, as saved before uploads were sealed: gone, not served.
	_, err = pool.Exec(ctx, `UPDATE register_uploads SET content = $1 WHERE ballot_id = $2`, content, f.BallotID)
	must(t, err)
	if _, err := reg.Upload(ctx, f.BallotID, sum[:]); !errors.Is(err, register.ErrNoUpload) {
		t.Fatalf("an upload in clear: %v, want ErrNoUpload", err)
	}
	must(t, reg.DeleteUploads(ctx, f.BallotID))
	if _, err := reg.Upload(ctx, f.BallotID, sum[:]); !errors.Is(err, register.ErrNoUpload) {
		t.Fatalf("a deleted upload: %v, want ErrNoUpload", err)
	}
}
