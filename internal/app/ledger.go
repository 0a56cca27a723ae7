package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/unionvote/eballot/internal/auth"
	"github.com/unionvote/eballot/internal/config"
	"github.com/unionvote/eballot/internal/db"

	"github.com/unionvote/eballot/internal/election"
)

// LoadDemo migrates the database, loads (and opens) the demo ballot with the
// real ledger behind it, and sends every demo member their personal voting
// link (to the development outbox unless Twilio is configured).
func LoadDemo(ctx context.Context, cfg *config.Config, log *slog.Logger, trusteeDir string) (election.DemoResult, error) {
	return LoadDemoMembers(ctx, cfg, log, trusteeDir, 0)
}

// LoadDemoMembers is LoadDemo with a register of members people (0: the 24
// named demo members), for load tests; see election.Admin.LoadDemoMembers.
func LoadDemoMembers(ctx context.Context, cfg *config.Config, log *slog.Logger, trusteeDir string, members int) (res election.DemoResult, err error) {
	err = withService(ctx, cfg, log, func(svc *Service) error {
		if res, err = svc.Admin.LoadDemoMembers(ctx, trusteeDir, members); err != nil {
			return err
		}
		if _, err := svc.Auth.IssueInvitations(ctx, res.BallotID); err != nil {
			return fmt.Errorf("demo invitations: %w", err)
		}
		return nil
	})
	return res, err
}

// CloseDemo closes the demo ballot and the ledger's election (its final
// checkpoint), for load tests that then export and verify the ledger.
func CloseDemo(ctx context.Context, cfg *config.Config, log *slog.Logger) (res election.DemoResult, err error) {
	err = withService(ctx, cfg, log, func(svc *Service) error {
		res, err = svc.Admin.CloseDemo(ctx)
		return err
	})
	return res, err
}

// DemoSessions gives n members of the demo ballot's register who have not
// voted and have no load test session yet a member session each, as a
// finished SMS sign-in would, and returns the cookie values: the load
// generator's sign-in (cmd/loadgen -sessions). It refuses unless texts go
// to the development outbox (EBALLOT_SMS_PROVIDER=dev): a service that
// texts real members never gets sessions without a sign-in.
func DemoSessions(ctx context.Context, cfg *config.Config, log *slog.Logger, n int) (cookies []string, err error) {
	if cfg.SMSProvider != "dev" {
		return nil, errors.New("demo sessions are for development and load tests only: EBALLOT_SMS_PROVIDER must be dev")
	}
	err = withService(ctx, cfg, log, func(svc *Service) error {
		res, err := svc.Admin.Demo(ctx)
		if err != nil {
			return err
		}
		reg, err := svc.Register.Members(ctx, res.BallotID)
		if err != nil {
			return err
		}
		voted, err := svc.Issuance.Marked(ctx, res.BallotID)
		if err != nil {
			return err
		}
		used, err := svc.Auth.LoadTestMembers(ctx, res.BallotID)
		if err != nil {
			return err
		}
		var ids []int64
		for _, id := range reg {
			if len(ids) < n && !voted[id] && !used[id] {
				ids = append(ids, id)
			}
		}
		if len(ids) < n {
			return fmt.Errorf("only %d members of %s's register have not voted (or had a load test session) yet, %d asked: load a bigger ballot (ballotd demo --members N)", len(ids), res.ElectionID, n)
		}
		cookies, err = svc.Auth.LoadTestSessions(ctx, res.BallotID, ids)
		return err
	})
	return cookies, err
}

// withService runs f with the whole service built over a migrated
// database, for the one-shot commands.
func withService(ctx context.Context, cfg *config.Config, log *slog.Logger, f func(*Service) error) error {
	pool, err := OpenDB(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := db.Migrate(ctx, pool); err != nil {
		return err
	}
	svc, err := Build(cfg, log, pool, prometheus.NewRegistry())
	if err != nil {
		return err
	}
	defer svc.Close()
	return f(svc)
}

// CreateStaff adds an organiser (of the union with slug unionSlug) or a
// scrutineer and returns their one-time passkey enrolment link.
func CreateStaff(ctx context.Context, cfg *config.Config, log *slog.Logger, role, unionSlug, name, mobile string) (string, error) {
	var link string
	err := withService(ctx, cfg, log, func(svc *Service) error {
		in := auth.StaffInput{Role: auth.Role(role), Name: name, Mobile: mobile}
		switch in.Role {
		case auth.RoleOrganiser:
			var err error
			if in.UnionID, err = svc.Ballots.UnionID(ctx, unionSlug); err != nil {
				return err
			}
		case auth.RoleScrutineer:
		default:
			return fmt.Errorf("role must be organiser or scrutineer, not %q", role)
		}
		var err error
		_, link, err = svc.Auth.CreateStaff(ctx, in)
		return err
	})
	return link, err
}

// DisableStaff disables staff account id (auth.Service.DisableStaff):
// true when it was disabled now, false when it was already.
func DisableStaff(ctx context.Context, cfg *config.Config, log *slog.Logger, id int64) (bool, error) {
	var now bool
	err := withService(ctx, cfg, log, func(svc *Service) error {
		var err error
		now, err = svc.Auth.DisableStaff(ctx, id)
		return err
	})
	return now, err
}
