// Package app wires the service together: database pool, migrations, stores,
// the HTTP server, and graceful shutdown.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/unionvote/eballot/internal/config"
	"github.com/unionvote/eballot/internal/db"
)

// NewLogger builds the one logger of the process from the configuration.
func NewLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// OpenDB connects to the configured database, retrying until
// cfg.DBConnectWait has passed, so a database that is still starting is
// waited for and an unreachable one fails with a clear error.
func OpenDB(ctx context.Context, cfg *config.Config, log *slog.Logger) (*pgxpool.Pool, error) {
	deadline := time.Now().Add(cfg.DBConnectWait)
	for {
		pool, err := db.Open(ctx, cfg.DatabaseURL)
		if err == nil {
			return pool, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, &config.Error{Var: "DATABASE_URL", Msg: err.Error()}
		}
		log.Info("waiting for the database", "err", err)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// NewHTTPServer is the HTTP server of the service with its time limits:
// a client that dribbles its headers (slow-loris) is cut off after
// ReadHeaderTimeout, one that dribbles its body after ReadTimeout.
// Tested by internal/systemtest (TestSlowLoris).
func NewHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// Serve runs the HTTP server until ctx is cancelled, then shuts down
// gracefully. ready, if not nil, receives the listening address once the
// server accepts connections.
func Serve(ctx context.Context, cfg *config.Config, log *slog.Logger, ready chan<- string) error {
	pool, err := OpenDB(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := db.Migrate(ctx, pool); err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	svc, err := Build(cfg, log, pool, reg)
	if err != nil {
		return err
	}
	defer svc.Close()
	if err := IndexAtRest(ctx, svc, log); err != nil {
		return err
	}
	// Background work: the invitation, reminder and refresh-email senders, the clean-up
	// of expired sign-in rows and the retention job, until shutdown.
	bg, stopBG := context.WithCancel(ctx)
	defer stopBG()
	go func() {
		if err := svc.GOTV.Run(bg); err != nil && bg.Err() == nil {
			log.Error("reminder sender stopped", "err", err)
		}
	}()
	go func() {
		if err := svc.Refresh.RunEmails(bg); err != nil && bg.Err() == nil {
			log.Error("contact-refresh email sender stopped", "err", err)
		}
	}() // links to check contact details, by email to members without a mobile
	go runRetention(bg, cfg, log, svc.Retention) // EBALLOT_RETENTION: daily report or deletion after the statutory period
	go runInvitations(bg, svc.Auth, pool, log)   // voting links of newly opened ballots, retries of temporary failures
	go runSchedule(bg, svc.Admin, log)           // ballots open and close at their notified times
	go runOfficerSweep(bg, svc, log)             // presiding officers' accounts end with their ballots
	go svc.After.Run(bg, time.Minute)            // result notices, s.231B reminders (after the close)
	go func() {
		t := time.NewTicker(10 * time.Minute)
		defer t.Stop()
		for {
			select {
			case <-bg.Done():
				return
			case <-t.C:
				if err := svc.Auth.Cleanup(bg); err != nil {
					log.Warn("sign-in clean-up failed", "err", err)
				}
			}
		}
	}()

	if cfg.DebugAddr != "" {
		dln, err := net.Listen("tcp", cfg.DebugAddr)
		if err != nil {
			return &config.Error{Var: "EBALLOT_DEBUG_ADDR", Msg: err.Error()}
		}
		ds := &http.Server{Handler: debugHandler(), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = ds.Serve(dln) }() // ends with ErrServerClosed
		defer func() { _ = ds.Close() }()
		log.Warn("profiler listening (EBALLOT_DEBUG_ADDR; loopback only)", "addr", dln.Addr().String())
	}

	go svc.Released.Run(bg) // ballot metrics released on the turnout schedule
	if cfg.MetricsAddr != "" {
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			return &config.Error{Var: "EBALLOT_METRICS_ADDR", Msg: err.Error()}
		}
		ms := &http.Server{Handler: svc.Web.MetricsHandler(), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = ms.Serve(mln) }() // ends with ErrServerClosed
		defer func() { _ = ms.Close() }()
		log.Info("metrics listening (EBALLOT_METRICS_ADDR)", "addr", mln.Addr().String())
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return &config.Error{Var: "EBALLOT_ADDR", Msg: err.Error()}
	}
	hs := NewHTTPServer(svc.Web.Handler(), log)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	log.Info("serving", "addr", ln.Addr().String(), "public_url", cfg.PublicURL.String())
	if ready != nil {
		ready <- ln.Addr().String()
	}

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("stopped")
	return nil
}

// IndexAtRest computes the blind indexes that rows written before
// migration 0022 lack (members' number, mobile and email; opt-outs, which
// then lose their number) and seals the members' names, mobiles, emails
// and addresses found in clear, and the old mobiles of change notices
// (migration 0033): the key is not in the database, so the
// migrations cannot (issue 21, docs/threat-model.md "Data at rest"). Serve
// runs it before serving; on an up-to-date database it finds nothing.
func IndexAtRest(ctx context.Context, svc *Service, log *slog.Logger) error {
	m, err := svc.Register.IndexMembers(ctx)
	if err != nil {
		return err
	}
	o, err := svc.GOTV.IndexOptOuts(ctx)
	if err != nil {
		return err
	}
	n, err := svc.Refresh.SealNotices(ctx)
	if err != nil {
		return err
	}
	if m > 0 || o > 0 || n > 0 {
		log.Info("blind indexes computed", "members", m, "optouts", o, "notices", n)
	}
	return nil
}
