package systemtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/unionvote/eballot/internal/app"
	"github.com/unionvote/eballot/internal/config"
	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/pgtest"
)

// TestSlowLoris runs the real server (app.Serve, with the production
// time limits) and a raw TCP client that dribbles its request headers one
// line a second: the server hangs up after its ReadHeaderTimeout instead
// of holding the connection, while a normal client is still served. A
// dribbled body is bounded by ReadTimeout, checked on the server itself.
func TestSlowLoris(t *testing.T) {
	hs := app.NewHTTPServer(http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	if hs.ReadHeaderTimeout <= 0 || hs.ReadHeaderTimeout > 10*time.Second || hs.ReadTimeout <= 0 || hs.ReadTimeout > time.Minute ||
		hs.WriteTimeout <= 0 || hs.IdleTimeout <= 0 || hs.MaxHeaderBytes <= 0 || hs.MaxHeaderBytes > 1<<20 {
		t.Fatalf("server time limits: header %v read %v write %v idle %v max header %d",
			hs.ReadHeaderTimeout, hs.ReadTimeout, hs.WriteTimeout, hs.IdleTimeout, hs.MaxHeaderBytes)
	}

	_, url := pgtest.NewDBURL(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	env := map[string]string{"DATABASE_URL": url, "EBALLOT_ADDR": addr, "EBALLOT_PUBLIC_URL": "http://localhost:" + strings.Split(addr, ":")[1],
		"EBALLOT_SECRET_KEY": fmt.Sprintf("%x", electiontest.SecretKey), "EBALLOT_METRICS_ADDR": "127.0.0.1:0"}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- app.Serve(ctx, cfg, slog.New(slog.DiscardHandler), ready) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("serve: %v", err)
	}
	t.Cleanup(func() { cancel(); <-done })

	start := time.Now()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	closed := make(chan time.Duration, 1)
	go func() {
		_, _ = io.Copy(io.Discard, conn) // returns when the server hangs up
		closed <- time.Since(start)
	}()
	_, _ = fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: %s\r\n", addr)
	limit := hs.ReadHeaderTimeout + 3*time.Second
	var took time.Duration
dribble:
	for i := 0; ; i++ {
		select {
		case took = <-closed:
			break dribble
		case <-time.After(time.Second):
			if time.Since(start) > limit {
				t.Fatalf("the server still holds a dribbling connection after %v", time.Since(start))
			}
			_, _ = fmt.Fprintf(conn, "X-Dribble-%d: %d\r\n", i, i)
			// Meanwhile a normal client is served.
			resp, err := http.Get("http://" + addr + "/healthz")
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("normal client while dribbling: %v %v", resp, err)
			}
			resp.Body.Close()
		}
	}
	if took < hs.ReadHeaderTimeout-time.Second {
		t.Fatalf("connection closed after %v, before the header timeout", took)
	}
	t.Logf("dribbling client cut off after %v", took.Round(100*time.Millisecond))

	// Headers complete, body dribbled: ReadTimeout ends it (checked above:
	// at most a minute); here only that a slow body does not stop others.
	conn2, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	_, _ = fmt.Fprintf(conn2, "POST /ledger/v1/x/cast HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{", addr)
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("normal client while a body dribbles: %v %v", resp, err)
	}
	resp.Body.Close()
	_ = bufio.NewReader
}
