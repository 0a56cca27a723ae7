package app

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/unionvote/eballot/crypto/manifest"
	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/packs"
	"github.com/unionvote/eballot/internal/packs/packstest"
	"github.com/unionvote/eballot/internal/web/page"
)

// flat is s with its white space collapsed (printed text is wrapped).
func flat(s string) string { return strings.Join(strings.Fields(s), " ") }

// The scrutineer makes the postal packs of an open hybrid ballot over
// HTTP: the members without a mobile or email, and the one who asked for
// post, get one (everyone when asked). The mail-house CSV names who gets
// which pack with its code and no vote data. The PDF, read back page by
// page, is A4 and holds for each pack every s.229 item in the member's
// language (the title, the paper number, the workplace ballot, the
// scrutineer's name, the return address and closing time, the dispute,
// the action, the period, who may call it, both questions with their
// answers, the s.229(4) statement verbatim as the regime has it), the
// member's name and address, and the code and short URL; the printed code
// signs the member in at /p. Bad input is refused naming the problem, and
// making the files is audited.
func TestPostalPacks(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	b := electiontest.New(t, s.pool, electiontest.Options{ElectionID: "packs", Members: 6, Open: true, Welsh: true,
		Member: func(i int) (string, string, string) {
			if i < 2 { // no e-contact: paper (s.230(2) as modified)
				return fmt.Sprintf("Member %d", i+1), "", ""
			}
			return fmt.Sprintf("Member %d", i+1), fmt.Sprintf("+4477009%05d", i), ""
		}})
	for i, m := range []struct{ addr, postcode, lang, by string }{
		{"1 Heol y Frenhines\nCaerdydd", "CF10 1AA", "cy", ""},
		{"2 Queen Street\nCardiff", "CF10 2BB", "en", ""},
		{"3 High Street\nSwansea", "SA1 1AA", "", "post"}, // has a mobile, asked for post
	} {
		if _, err := s.pool.Exec(ctx, `UPDATE members SET postal_address = $2, postcode = $3, language = $4, ballot_by = $5 WHERE id = $1`,
			b.MemberIDs[i], m.addr, m.postcode, m.lang, m.by); err != nil {
			t.Fatal(err)
		}
	}
	// Written as before migration 0022: sealed as on startup.
	if err := IndexAtRest(ctx, s.svc, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/scrutineer/ballots/%d/packs", b.ID)
	scr := s.staff("scrutineer", 0)
	if p := s.staff("organiser", b.UnionID).get(path); p.code != 403 {
		t.Fatalf("organiser on the packs page: %d", p.code)
	}
	p := scr.get(path)
	if p.code != 200 || !strings.Contains(p.body, `<strong id="packs-count">3</strong>`) {
		t.Fatalf("packs page: %d %.400s", p.code, p.body)
	}
	returnAddr := "Independent Scrutineers Ltd\nFreepost RTXX-1234\nCardiff CF10 1AA"

	// Bad input, each refused with the problem named; nothing made.
	for _, c := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"format": {"pdf"}, "return_address": {"  "}}, "each voting paper must state it (s.229(1A)(b))"},
		{url.Values{"format": {"pdf"}, "return_address": {"PO Box ☃"}}, "The character “☃” cannot be printed"},
		{url.Values{"format": {"pdf"}, "return_address": {strings.Repeat("x", 301)}}, "at most 300 characters"},
		{url.Values{"format": {"zip"}, "return_address": {returnAddr}}, "Choose the PDF or the CSV."},
	} {
		if p := scr.post(path, c.form); p.code != 422 || !strings.Contains(p.body, c.want) {
			t.Errorf("%v: %d, want 422 with %q", c.form, p.code, c.want)
		}
	}
	scr.get(path + "?lang=cy")
	if p := scr.post(path, url.Values{"format": {"pdf"}}); p.code != 422 || !strings.Contains(p.body, "rhaid i bob papur pleidleisio ei nodi") {
		t.Errorf("Welsh refusal: %d", p.code)
	}
	scr.get(path + "?lang=en")
	var audited int
	s.pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action LIKE 'packs.%'`).Scan(&audited)
	if audited != 0 {
		t.Fatalf("refusals were audited as packs made: %d", audited)
	}

	// The codes the packs must carry, in paper-number order.
	type who struct {
		id     int64
		paper  int
		code   string
		lang   string
		name   string
		street string
	}
	var want []who
	for i, lang := range []string{"cy", "en", "en"} {
		w := who{id: b.MemberIDs[i], lang: lang, name: fmt.Sprintf("Member %d", i+1)}
		s.pool.QueryRow(ctx, `SELECT paper_number FROM register_entries WHERE ballot_id = $1 AND member_id = $2`, b.ID, w.id).Scan(&w.paper)
		d, err := s.svc.Register.Details(ctx, w.id)
		if err != nil {
			t.Fatal(err)
		}
		w.street, _, _ = strings.Cut(d.Address, "\n")
		if w.code, err = s.svc.Auth.PackCode(ctx, b.ID, w.id); err != nil {
			t.Fatal(err)
		}
		want = append(want, w)
	}
	for i := 1; i < len(want); i++ {
		for j := i; j > 0 && want[j].paper < want[j-1].paper; j-- {
			want[j], want[j-1] = want[j-1], want[j]
		}
	}

	// The mail-house CSV.
	p = scr.post(path, url.Values{"format": {"csv"}, "who": {"all"}}) // the form cannot widen the ballot's setting
	if p.code != 200 || !strings.HasPrefix(p.h.Get("Content-Type"), "text/csv") || !strings.Contains(p.h.Get("Content-Disposition"), "attachment") {
		t.Fatalf("csv: %d %v", p.code, p.body)
	}
	rows, err := csv.NewReader(strings.NewReader(p.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != "paper_number,name,address,postcode,language,workplace_ballot,online_code,online_url" || len(rows) != 4 {
		t.Fatalf("csv: %q", rows)
	}
	for i, w := range want {
		r := rows[i+1]
		if r[0] != fmt.Sprint(w.paper) || r[1] != w.name || r[4] != w.lang || r[6] != w.code || r[7] != s.base+"/p" ||
			!strings.HasPrefix(r[2], w.street) || (r[5] != "North Depot" && r[5] != "South Depot") {
			t.Errorf("csv row %d: %q, want %+v", i+1, r, w)
		}
	}
	if regexp.MustCompile(`(?i)strike|streic|yes|no\b`).MatchString(p.body) {
		t.Error("the mail-house file holds paper content")
	}
	// A hybrid ballot sent to everyone (the organiser's setting, frozen
	// at the opening): a pack for every member.
	all := electiontest.New(t, s.pool, electiontest.Options{ElectionID: "packs-all", Members: 5, Open: true, PaperToEveryone: true})
	allPath := fmt.Sprintf("/scrutineer/ballots/%d/packs", all.ID)
	if p := scr.get(allPath); p.code != 200 || !strings.Contains(p.body, `<strong id="packs-count">5</strong>`) {
		t.Fatalf("packs page of a ballot sent to everyone: %d %.400s", p.code, p.body)
	}
	p = scr.post(allPath, url.Values{"format": {"csv"}})
	if all, err := csv.NewReader(strings.NewReader(p.body)).ReadAll(); err != nil || len(all) != 6 {
		t.Errorf("csv for everyone: %d rows (%v), want 6", len(all), err)
	}

	// The PDF, read back.
	scr.get(path)
	p = scr.post(path, url.Values{"format": {"pdf"}, "return_address": {returnAddr}})
	if p.code != 200 || p.h.Get("Content-Type") != "application/pdf" {
		t.Fatalf("pdf: %d %v %.300s", p.code, p.h, p.body)
	}
	// Kept for people to look at (test-artifacts, ignored by git).
	_ = os.MkdirAll(filepath.Join("..", "..", "test-artifacts"), 0o755)
	_ = os.WriteFile(filepath.Join("..", "..", "test-artifacts", "packs.pdf"), []byte(p.body), 0o644)
	doc, err := packstest.Read([]byte(p.body))
	if err != nil {
		t.Fatalf("pdf: %v", err)
	}
	opened, err := s.svc.Ballots.Opened(ctx, b.ElectionID)
	if err != nil {
		t.Fatal(err)
	}
	m := &manifest.Manifest{}
	if err := json.Unmarshal(opened.Manifest, m); err != nil {
		t.Fatal(err)
	}
	closes, _ := time.Parse(manifest.TimeFormat, m.ClosesAt)
	regime, err := election.RegimeFor(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tr := func(lang, key string) string { return s.svc.Pages.T(lang, key) }
	byPaper := map[int]string{}
	footer := regexp.MustCompile(`^(?:Voting paper|Papur pleidleisio) (\d+) · (?:page|tudalen) \d+ (?:of|o) \d+$`)
	for i, pg := range doc.Pages {
		if pg.W != 595.28 || pg.H != 841.89 {
			t.Errorf("page %d is %v × %v pt, not A4", i+1, pg.W, pg.H)
		}
		var n int
		for _, l := range pg.Lines {
			if f := footer.FindStringSubmatch(l); f != nil {
				fmt.Sscan(f[1], &n)
			}
		}
		if n == 0 {
			t.Fatalf("page %d names no paper number", i+1)
		}
		byPaper[n] += strings.Join(pg.Lines, "\n") + "\n"
	}
	if len(byPaper) != 3 {
		t.Fatalf("the PDF has packs for %d papers, want 3", len(byPaper))
	}
	for _, w := range want {
		text := flat(byPaper[w.paper])
		pp := m.Paper(w.lang)
		statement := regime.Texts["s229_4"].Text
		if w.lang == "cy" {
			statement = regime.Texts["s229_4"].TextCy
		}
		items := map[string]string{
			"title":                        pp.Title,
			"s.229(1A)(c) paper number":    fmt.Sprintf("%s %d", tr(w.lang, "packs.paper_number"), w.paper),
			"s.229(1A)(a) scrutineer":      "Independent Scrutineers Ltd",
			"s.229(1A)(b) date":            fmt.Sprintf(tr(w.lang, "packs.return_by"), page.When(w.lang, closes)),
			"s.229(1A)(b) address":         flat(returnAddr),
			"s.229(2B) dispute":            pp.Texts["dispute_summary"],
			"s.229(2C) action":             pp.Texts["types_of_action"],
			"s.229(2D) period":             pp.Texts["period"],
			"s.229(3) who calls":           pp.Texts["authorised_person"],
			"s.229(2)(a) strike question":  pp.Questions[0].Text,
			"s.229(2)(b) ASOS question":    pp.Questions[1].Text,
			"answers":                      pp.Questions[0].Options[0].Label + " " + pp.Questions[0].Options[1].Label,
			"s.229(4) statement":           flat(statement),
			"name in the window":           w.name,
			"address in the window":        w.street,
			"online code":                  w.code,
			"short URL":                    s.base + "/p",
			"first vote counts (one rule)": flat(tr(w.lang, "packs.online_once")),
		}
		for item, s := range items {
			if s == "" || !strings.Contains(text, flat(s)) {
				t.Errorf("pack %d (%s): %s %q missing", w.paper, w.lang, item, s)
			}
		}
		if w.lang == "cy" && !strings.Contains(text, "Ydw Nac ydw") {
			t.Errorf("Welsh pack %d: answers not in Welsh", w.paper)
		}
	}
	s.pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action IN ('packs.pdf', 'packs.csv') AND ballot_id = $1`, b.ID).Scan(&audited)
	if audited != 2 { // the CSV and the PDF of this ballot
		t.Errorf("%d packs made audited, want 2", audited)
	}

	// The printed code signs the member in, once.
	mem := s.anon()
	mem.get("/p")
	if p := mem.post("/p", url.Values{"code": {want[0].code}}); p.code != 200 || !strings.Contains(p.body, `id="paper"`) {
		t.Fatalf("the printed code: %d", p.code)
	}
	if max := packs.MaxReturnAddress; max != 300 {
		t.Fatalf("MaxReturnAddress %d: the refusal above tests 300", max)
	}
}
