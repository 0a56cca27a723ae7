package register_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/unionvote/eballot/internal/pgtest"
	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/register/registertest"
)

// regBenchCSV generates a register of n members across the test
// workplaces. Mobiles are valid UK mobile numbers in 07400 000000–999999:
// the file exists only in memory and no message is ever sent.
func regBenchCSV(n int) []byte {
	var b bytes.Buffer
	b.Grow(n * 96)
	b.WriteString("member_number,name,mobile,email,workplace,branch,employer\n")
	places := []string{"Cardiff Depot", "Swansea Depot", "Newport Office"}
	branches := []string{"South Wales", "West Wales", "Gwent"}
	for i := 0; i < n; i++ {
		email := ""
		if i%3 != 0 {
			email = fmt.Sprintf("member%d@example.org", i)
		}
		fmt.Fprintf(&b, "B%07d,Member %d,07400 %06d,%s,%s,%s,\n", i, i, i, email, places[i%3], branches[i%3])
	}
	return b.Bytes()
}

// BenchmarkRegisterImport100k: parse, check and commit a register of
// 100,000 members into a fresh ballot of a fresh union (target < 10 s).
//
//	go test ./internal/election/ -run '^$' -bench RegisterImport100k -benchtime 3x
func BenchmarkRegisterImport100k(b *testing.B) {
	const n = 100_000
	csv := regBenchCSV(n)
	pool := pgtest.NewDB(b)
	ctx := context.Background()
	b.SetBytes(int64(len(csv)))
	// CPU time spent by this process and by the database's backends: on a
	// shared, loaded machine the wall time says little, these do.
	var goCPU, pgCPU time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		f := registertest.New(b, pool, fmt.Sprintf("bench-%d", i), false)
		go0, pg0 := processCPU(), backendsCPU(ctx, pool)
		b.StartTimer()
		file, rep := register.Parse(bytes.NewReader(csv), registertest.Config().Workplaces, registertest.Policy())
		if !rep.OK() || len(file.Rows) != n {
			b.Fatalf("parse: %d errors, first %v", rep.Errors, rep.Issues[:min(3, len(rep.Issues))])
		}
		d, err := registertest.Commit(ctx, pool, "organiser:1", f.BallotID, file)
		if err != nil {
			b.Fatal(err)
		}
		if len(d.Added) != n {
			b.Fatalf("added %d", len(d.Added))
		}
		b.StopTimer()
		goCPU += processCPU() - go0
		pgCPU += backendsCPU(ctx, pool) - pg0
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(goCPU.Seconds()/float64(b.N), "go-cpu-s/op")
	b.ReportMetric(pgCPU.Seconds()/float64(b.N), "pg-cpu-s/op")
	var entries int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM register_entries`).Scan(&entries); err != nil || entries != n*b.N {
		b.Fatalf("%d entries (%v)", entries, err)
	}
}

// BenchmarkFreeze100k: the opening's freeze of a register of 100,000
// members (voting-paper numbers in style then member-number order, the
// register hash, the contacts sealed for the ballot), in a transaction
// rolled back each time. The register is loaded once with Store.Load.
//
//	go test ./internal/register/ -run '^$' -bench Freeze100k -benchtime 3x
func BenchmarkFreeze100k(b *testing.B) {
	const n = 100_000
	pool := pgtest.NewDB(b)
	ctx := context.Background()
	f := registertest.New(b, pool, "freeze", false)
	reg := register.NewStore(pool, registertest.Key)
	wps := registertest.Config().Workplaces
	if err := reg.Load(ctx, f.UnionID, f.BallotID, n, func(i int) register.Member {
		w := wps[i%2]
		// Numbers not in insertion order: the order is the freeze's work.
		return register.Member{Number: fmt.Sprintf("F%07d", (i*7919)%n), Name: fmt.Sprintf("Member %d", i),
			Mobile: fmt.Sprintf("+4474%08d", i), Workplace: w, Style: register.StyleFor(false, w)}
	}); err != nil {
		b.Fatal(err)
	}
	var goCPU, pgCPU time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		go0, pg0 := processCPU(), backendsCPU(ctx, pool)
		tx, err := pool.Begin(ctx)
		if err != nil {
			b.Fatal(err)
		}
		hash, err := reg.Freeze(ctx, tx, f.BallotID)
		if err != nil || len(hash) != 32 {
			b.Fatalf("freeze: %x, %v", hash, err)
		}
		b.StopTimer()
		goCPU += processCPU() - go0
		pgCPU += backendsCPU(ctx, pool) - pg0
		if err := tx.Rollback(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(goCPU.Seconds()/float64(b.N), "go-cpu-s/op")
	b.ReportMetric(pgCPU.Seconds()/float64(b.N), "pg-cpu-s/op")
}

// BenchmarkParseRegister100k: parse and check only.
func BenchmarkParseRegister100k(b *testing.B) {
	csv := regBenchCSV(100_000)
	b.SetBytes(int64(len(csv)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, rep := register.Parse(bytes.NewReader(csv), registertest.Config().Workplaces, registertest.Policy()); !rep.OK() {
			b.Fatal(rep.Issues[0])
		}
	}
}

// processCPU is the user+system CPU time of this process.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// backendsCPU sums the CPU time of the database's server processes, read
// from /proc (Linux; the test cluster runs on this machine). It is 0
// where that is not possible.
func backendsCPU(ctx context.Context, pool *pgxpool.Pool) time.Duration {
	rows, err := pool.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = current_database()`)
	if err != nil {
		return 0
	}
	defer rows.Close()
	var total time.Duration
	for rows.Next() {
		var pid int
		if rows.Scan(&pid) != nil {
			return 0
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// Fields after the command name (which may hold spaces): utime
		// and stime are the 14th and 15th fields, in clock ticks (100/s).
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(f) < 13 {
			continue
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		total += time.Duration(ut+st) * 10 * time.Millisecond
	}
	return total
}
