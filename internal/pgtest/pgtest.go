// Package pgtest starts a real, throw-away PostgreSQL cluster for tests.
//
// A package that needs a database calls [Main] from its TestMain and
// [NewDB] from each test:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
//	func TestX(t *testing.T) {
//		pool := pgtest.NewDB(t) // fresh database, migrations applied
//		...
//	}
//
// The cluster is created once per test binary (initdb in a temporary
// directory, listening only on a Unix socket there), a template database with
// every migration applied is built once, and each test gets its own copy made
// with CREATE DATABASE … TEMPLATE, dropped when the test ends. The cluster
// and its directory are removed when the tests finish. Nothing here mocks the
// database.
//
// When the tests run as root the cluster runs as the 'postgres' system user
// (PostgreSQL refuses root). Set EBALLOT_TEST_PGBIN to choose the PostgreSQL
// bin directory; otherwise PATH and /usr/lib/postgresql/*/bin are searched.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/unionvote/eballot/internal/db"
)

const superuser = "ballot"

// Cluster is a running throw-away PostgreSQL server.
type Cluster struct {
	Dir     string // temporary directory holding data/ and the socket
	BinDir  string
	Socket  string // directory of the Unix socket
	runAsPG bool

	mu       sync.Mutex
	template string // name of the migrated template database, once built
}

var (
	shared    *Cluster
	errShared error
	once      sync.Once
)

// Main runs the package's tests and then stops the cluster if one was
// started. Use it as the body of TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if shared != nil {
		shared.Stop()
	}
	os.Exit(code)
}

// Shared returns the package's cluster, starting it on first use.
func Shared(t testing.TB) *Cluster {
	t.Helper()
	once.Do(func() { shared, errShared = Start() })
	if errShared != nil {
		t.Fatalf("pgtest: %v", errShared)
	}
	return shared
}

// NewDB returns a pool on a fresh database with all migrations applied. The
// database is dropped when the test ends.
func NewDB(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, _ := NewDBURL(t)
	return pool
}

// NewDBURL is NewDB that also returns the connection URL, for tests that
// start a server process or a second pool.
func NewDBURL(t testing.TB) (*pgxpool.Pool, string) {
	t.Helper()
	c := Shared(t)
	ctx := context.Background()
	tmpl, err := c.migratedTemplate(ctx)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	name := "t_" + randHex(8)
	if err := c.exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, tmpl)); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	url := c.URL(name)
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	t.Cleanup(func() {
		pool.Close()
		_ = c.exec(context.Background(), fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name))
	})
	return pool, url
}

// URL is the connection URL of database name on the cluster.
func (c *Cluster) URL(name string) string {
	return fmt.Sprintf("postgres:///%s?host=%s&user=%s&sslmode=disable", name, c.Socket, superuser)
}

func (c *Cluster) exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

func (c *Cluster) migratedTemplate(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.template != "" {
		return c.template, nil
	}
	name := "tmpl_migrated"
	if err := c.exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("create template: %w", err)
	}
	pool, err := pgxpool.New(ctx, c.URL(name))
	if err != nil {
		return "", err
	}
	err = db.Migrate(ctx, pool)
	pool.Close()
	if err != nil {
		return "", fmt.Errorf("migrate template: %w", err)
	}
	c.template = name
	return name, nil
}

// Start creates and starts a new cluster in a temporary directory.
func Start() (*Cluster, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "eballot-pg-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir, BinDir: bin, Socket: filepath.Join(dir, "run"), runAsPG: os.Geteuid() == 0}
	if err := os.Mkdir(c.Socket, 0o755); err != nil {
		return nil, err
	}
	if c.runAsPG {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root needs the 'postgres' user (install the postgresql package): %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		for _, p := range []string{dir, c.Socket} {
			if err := os.Chown(p, uid, gid); err != nil {
				return nil, err
			}
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := c.run(filepath.Join(bin, "initdb"), "-D", data, "-U", superuser, "--auth=trust",
		"-E", "UTF8", "--locale=C.UTF-8", "--no-sync"); err != nil {
		c.cleanup()
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	// Durability settings: fsync off is safe against process crashes (the
	// kernel still has the writes) and only loses data on an OS crash, which
	// tests never simulate. synchronous_commit stays on so a killed
	// PostgreSQL keeps every commit it acknowledged.
	if err := c.start(); err != nil {
		c.cleanup()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) start() error {
	opts := strings.Join([]string{
		"-c listen_addresses=''",
		"-c unix_socket_directories=" + c.Socket,
		"-c fsync=off", "-c full_page_writes=off",
		"-c max_connections=300",
		"-c shared_buffers=64MB",
	}, " ")
	logf := filepath.Join(c.Dir, "postgres.log")
	if out, err := c.run(filepath.Join(c.BinDir, "pg_ctl"), "-D", filepath.Join(c.Dir, "data"), "-o", opts, "-l", logf, "-w", "-t", "60", "start"); err != nil {
		logs, _ := os.ReadFile(logf)
		return fmt.Errorf("pg_ctl start: %w\n%s\n%s", err, out, logs)
	}
	return nil
}

// Stop stops the cluster (fast shutdown) and removes its directory.
func (c *Cluster) Stop() {
	_, _ = c.run(filepath.Join(c.BinDir, "pg_ctl"), "-D", filepath.Join(c.Dir, "data"), "-m", "immediate", "-w", "stop")
	c.cleanup()
}

// Kill sends SIGKILL to the postmaster, for crash tests. Restart with
// [Cluster.Restart].
func (c *Cluster) Kill() error {
	pid, err := c.PID()
	if err != nil {
		return err
	}
	return syscall.Kill(pid, syscall.SIGKILL)
}

// PID is the running postmaster's process id (from postmaster.pid).
func (c *Cluster) PID() (int, error) {
	b, err := os.ReadFile(filepath.Join(c.Dir, "data", "postmaster.pid"))
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
}

// Restart starts the cluster again after Kill or a stop.
func (c *Cluster) Restart() error {
	data := filepath.Join(c.Dir, "data")
	// A killed postmaster leaves its children for a moment; wait until the
	// old pid file is gone or stale.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := c.run(filepath.Join(c.BinDir, "pg_ctl"), "-D", data, "status"); err != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	return c.start()
}

func (c *Cluster) cleanup() { _ = os.RemoveAll(c.Dir) }

func (c *Cluster) run(name string, args ...string) ([]byte, error) {
	var cmd *exec.Cmd
	if c.runAsPG {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
	} else {
		cmd = exec.Command(name, args...)
	}
	cmd.Dir = os.TempDir()
	return cmd.CombinedOutput()
}

// BinDir finds the directory with initdb and pg_ctl.
func BinDir() (string, error) {
	if d := os.Getenv("EBALLOT_TEST_PGBIN"); d != "" {
		return d, nil
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			if _, err := os.Stat(filepath.Join(filepath.Dir(r), "initdb")); err == nil {
				return filepath.Dir(r), nil
			}
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgMajor(dirs[i]) > pgMajor(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("PostgreSQL server binaries (initdb, pg_ctl) not found: install the postgresql package (scripts/pg.sh bindir does it) or set EBALLOT_TEST_PGBIN")
}

func pgMajor(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
