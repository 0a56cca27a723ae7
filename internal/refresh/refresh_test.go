package refresh

import (
	"strings"
	"testing"

	"github.com/unionvote/eballot/internal/register"
)

// The union's file: columns in any order, a BOM, dates in two forms; rows
// with a value that is not acceptable are counted and left out; a file
// without its key columns is refused.
func TestParseUnionFile(t *testing.T) {
	policy := register.ContactPolicy{EmployerEmailDomains: []string{"employer.example"}, AllowFictionalNumbers: true}
	in := "\ufeffupdated_at,Member_Number,mobile,email,address,postcode\n" +
		"2026-11-01,M1,07700 900123,,,\n" +
		"2026-11-01T10:00:00Z,M2,,Ann@Example.ORG,\"1 High St\nCardiff\",cf101aa\n" +
		"2026-11-01,M3,,ann@employer.example,,\n" + // an employer's address
		"yesterday,M4,,,,\n" + // not a date
		"2026-11-01,M5,,,2 Low Rd,XX\n" // a postcode that is not one
	rows, bad, err := ParseUnionFile(strings.NewReader(in), policy)
	if err != nil {
		t.Fatal(err)
	}
	if bad != 3 || len(rows) != 2 {
		t.Fatalf("%d rows, %d bad: %+v", len(rows), bad, rows)
	}
	if rows[0].MemberNumber != "M1" || rows[0].Mobile != "+447700900123" || rows[0].UpdatedAt.IsZero() {
		t.Errorf("row 1: %+v", rows[0])
	}
	if rows[1].Email != "Ann@example.org" || rows[1].Address != "1 High St\nCardiff" || rows[1].Postcode != "CF10 1AA" {
		t.Errorf("row 2: %+v", rows[1])
	}
	for _, f := range []string{"mobile,email\n", "member_number,mobile\nM1,07700900123\n", ""} {
		if _, _, err := ParseUnionFile(strings.NewReader(f), policy); err == nil {
			t.Errorf("%q accepted", f)
		}
	}
}

func FuzzParseUnionFile(f *testing.F) {
	f.Add("member_number,mobile,email,address,postcode,updated_at\nM1,07700 900123,a@b.org,\"1 St\",CF10 1AA,2026-01-02\n")
	f.Add("updated_at,member_number\n2026-01-02T00:00:00Z,M2\n")
	f.Add("member_number,updated_at\n\"unterminated\n")
	f.Fuzz(func(t *testing.T, in string) {
		rows, bad, err := ParseUnionFile(strings.NewReader(in), register.ContactPolicy{AllowFictionalNumbers: true})
		if err != nil {
			return
		}
		if bad < 0 {
			t.Fatal("negative count")
		}
		for _, r := range rows {
			if r.MemberNumber == "" || len(r.MemberNumber) > 64 || r.UpdatedAt.IsZero() || (r.Address != "" && r.Postcode == "") {
				t.Fatalf("row accepted: %+v", r)
			}
		}
	})
}

// Groups under the minimum cell size are merged into "other", which is
// itself dropped when under the minimum; the unnamed group always merges.
func TestCellsMinimum(t *testing.T) {
	m := map[string]*Cell{
		"Big":   {Label: "Big", Members: 12, Mobile: 6},
		"Small": {Label: "Small", Members: 4, Mobile: 1},
		"Tiny":  {Label: "Tiny", Members: 3, Post: 3},
		"":      {Label: "", Members: 3, Unreached: 3},
	}
	got := cells(m, 10)
	if len(got) != 2 || got[0].Label != "Big" || !got[1].Other || got[1].Members != 10 || got[1].Mobile != 1 || got[1].Post != 3 || got[1].Unreached != 3 {
		t.Fatalf("cells: %+v", got)
	}
	if got := cells(m, 11); len(got) != 1 || got[0].Label != "Big" {
		t.Fatalf("an 'other' under the minimum was shown: %+v", got)
	}
	if c := (Cell{Members: 3}); c.Pct(1) != 33 || c.Pct(2) != 67 || (Cell{}).Pct(0) != 0 {
		t.Fatal("percentages")
	}
}
