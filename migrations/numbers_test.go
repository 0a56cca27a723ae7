package migrations

import (
	"fmt"
	"io/fs"
	"regexp"
	"strconv"
	"testing"
)

// nameRE is the form of a migration's file name: NNNN_name.sql.
var nameRE = regexp.MustCompile(`^(\d{4})_[a-z0-9_]+\.sql$`)

// numberProblems lists what is wrong with the numbering of the migration
// files names: a name not of the form NNNN_name.sql, two files with one
// number (two branches that each took the next one), or a gap.
func numberProblems(names []string) []string {
	var bad []string
	seen := map[int]string{}
	highest := 0
	for _, n := range names {
		m := nameRE.FindStringSubmatch(n)
		if m == nil {
			bad = append(bad, fmt.Sprintf("%s: not NNNN_name.sql", n))
			continue
		}
		num, _ := strconv.Atoi(m[1])
		if other, ok := seen[num]; ok {
			bad = append(bad, fmt.Sprintf("%s and %s have the same number %04d: renumber the newer one", other, n, num))
			continue
		}
		seen[num] = n
		highest = max(highest, num)
	}
	for i := 1; i <= highest; i++ {
		if _, ok := seen[i]; !ok {
			bad = append(bad, fmt.Sprintf("no migration %04d (the numbers run 0001 to %04d without a gap)", i, highest))
		}
	}
	return bad
}

// Every migration has its own number, and the numbers run from 0001 with
// no gap: tern applies them in number order, so two files with one number
// (two branches merged) would leave one of them unapplied or applied out
// of order.
func TestMigrationNumbersUnique(t *testing.T) {
	names, err := fs.Glob(FS, "*")
	if err != nil {
		t.Fatal(err)
	}
	if len(names) < 10 {
		t.Fatalf("only %d migrations embedded: the glob is wrong", len(names))
	}
	for _, p := range numberProblems(names) {
		t.Error(p)
	}
}

// The check refuses two migrations with one number, a gap and a name of
// another form, and accepts a clean run.
func TestMigrationNumbersCanFail(t *testing.T) {
	if p := numberProblems([]string{"0001_init.sql", "0002_a.sql", "0002_b.sql"}); len(p) != 1 || !regexp.MustCompile(`0002_a.sql and 0002_b.sql`).MatchString(p[0]) {
		t.Errorf("clash: %q", p)
	}
	if p := numberProblems([]string{"0001_init.sql", "0003_c.sql"}); len(p) != 1 {
		t.Errorf("gap: %q", p)
	}
	if p := numberProblems([]string{"0001_init.sql", "2_x.sql"}); len(p) != 1 {
		t.Errorf("bad name: %q", p)
	}
	if p := numberProblems([]string{"0002_b.sql", "0001_init.sql"}); len(p) != 0 {
		t.Errorf("clean run refused: %q", p)
	}
}
