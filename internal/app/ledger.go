package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/unionvote/eballot/internal/auth"
	"github.com/unionvote/eballot/internal/config"
	"github.com/unionvote/eballot/internal/db"

	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/ledger"
)

// ledgerHandOver adapts the ledger to the small interface the election
// module uses at open and close. The election module never imports the
// ledger; the ledger never learns anything about members.
type ledgerHandOver struct{ l *ledger.Ledger }

var _ election.Ledger = ledgerHandOver{}

func (h ledgerHandOver) LogKey(ctx context.Context, electionID string) (string, error) {
	return h.l.NewLogKey(ctx, electionID)
}

func (h ledgerHandOver) OpenElection(ctx context.Context, manifest []byte) error {
	_, err := h.l.Open(ctx, manifest, ledger.Window{})
	return err
}

func (h ledgerHandOver) CloseElection(ctx context.Context, electionID string) error {
	_, err := h.l.Close(ctx, electionID)
	return err
}

// LoadDemo migrates the database, loads (and opens) the demo ballot with the
// real ledger behind it, and sends every demo member their personal voting
// link (to the development outbox unless Twilio is configured).
func LoadDemo(ctx context.Context, cfg *config.Config, log *slog.Logger, trusteeDir string) (election.DemoResult, error) {
	return LoadDemoMembers(ctx, cfg, log, trusteeDir, 0)
}

// LoadDemoMembers is LoadDemo with a register of members people (0: the 24
// named demo members), for load tests; see election.Admin.LoadDemoMembers.
func LoadDemoMembers(ctx context.Context, cfg *config.Config, log *slog.Logger, trusteeDir string, members int) (election.DemoResult, error) {
	pool, err := OpenDB(ctx, cfg, log)
	if err != nil {
		return election.DemoResult{}, err
	}
	defer pool.Close()
	if err := db.Migrate(ctx, pool); err != nil {
		return election.DemoResult{}, err
	}
	svc, err := Build(cfg, log, pool, prometheus.NewRegistry())
	if err != nil {
		return election.DemoResult{}, err
	}
	defer svc.Close()
	res, err := svc.Admin.LoadDemoMembers(ctx, trusteeDir, members)
	if err != nil {
		return res, err
	}
	if _, err := svc.Auth.IssueInvitations(ctx, res.BallotID); err != nil {
		return res, fmt.Errorf("demo invitations: %w", err)
	}
	return res, nil
}

// CloseDemo closes the demo ballot and the ledger's election (its final
// checkpoint), for load tests that then export and verify the ledger.
func CloseDemo(ctx context.Context, cfg *config.Config, log *slog.Logger) (election.DemoResult, error) {
	pool, err := OpenDB(ctx, cfg, log)
	if err != nil {
		return election.DemoResult{}, err
	}
	defer pool.Close()
	if err := db.Migrate(ctx, pool); err != nil {
		return election.DemoResult{}, err
	}
	svc, err := Build(cfg, log, pool, prometheus.NewRegistry())
	if err != nil {
		return election.DemoResult{}, err
	}
	defer svc.Close()
	return svc.Admin.CloseDemo(ctx)
}

// CreateStaff adds an organiser (of the union with slug unionSlug) or a
// scrutineer and returns their one-time passkey enrolment link.
func CreateStaff(ctx context.Context, cfg *config.Config, log *slog.Logger, role, unionSlug, name, mobile string) (string, error) {
	pool, err := OpenDB(ctx, cfg, log)
	if err != nil {
		return "", err
	}
	defer pool.Close()
	if err := db.Migrate(ctx, pool); err != nil {
		return "", err
	}
	svc, err := Build(cfg, log, pool, prometheus.NewRegistry())
	if err != nil {
		return "", err
	}
	defer svc.Close()
	in := auth.StaffInput{Role: auth.Role(role), Name: name, Mobile: mobile}
	switch in.Role {
	case auth.RoleOrganiser:
		if err := pool.QueryRow(ctx, `SELECT id FROM unions WHERE slug = $1`, unionSlug).Scan(&in.UnionID); err != nil {
			return "", fmt.Errorf("no union with slug %q", unionSlug)
		}
	case auth.RoleScrutineer:
	default:
		return "", fmt.Errorf("role must be organiser or scrutineer, not %q", role)
	}
	_, link, err := svc.Auth.CreateStaff(ctx, in)
	return link, err
}
