package app

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/unionvote/eballot/internal/election/electiontest"
)

// TestRegisterImportKeepsVerified drives, as staff do, a ballot's
// register import over details members checked: an organiser corrects
// three members' contacts with them (staff page) and a member confirms
// theirs through the link of a refresh campaign; the organiser then
// uploads the ballot's register file with other values for everyone (a
// blank mobile for one). The preview says per field how many values are
// kept; the commit keeps exactly those and takes the file's values for
// the rest. The union's own file, older than the confirmation, keeps the
// confirmed mobile too, and says so per field.
func TestRegisterImportKeepsVerified(t *testing.T) {
	s := refreshSite(t)
	ctx := context.Background()
	const members = 6
	b := electiontest.New(t, s.pool, electiontest.Options{ElectionID: "register-kept", Members: members}) // a draft
	number := func(i int) string { return fmt.Sprintf("M%06d", i+1) }
	held := func(i int) (mobile, email string) {
		c := s.contact(b.MemberIDs[i])
		return c.Mobile, c.Email
	}
	org := s.staff("organiser", b.UnionID)
	org.get("/organiser/refresh")

	// Staff correct members 0 (mobile), 1 (email) and 2 (both) with them.
	verMobile, verEmail := map[int]bool{}, map[int]bool{}
	for i, v := range map[int]url.Values{
		0: {"mobile": {"07911 100001"}},
		1: {"email": {"second@home.example"}},
		2: {"mobile": {"07911 100003"}, "email": {"third@home.example"}},
	} {
		v.Set("number", number(i))
		if p := org.post("/organiser/refresh/member", v); p.code != 200 || !strings.Contains(p.body, `id="saved"`) {
			t.Fatalf("staff correction of member %d: %d\n%.2000s", i, p.code, p.body)
		}
		verMobile[i], verEmail[i] = verMobile[i] || v.Get("mobile") != "", verEmail[i] || v.Get("email") != ""
	}
	// Member 4 confirms the (imported) mobile held, through their link.
	p := org.post("/organiser/refresh/campaigns", url.Values{"segment": {"all"}, "message_en": {"Please check your details:"},
		"message_cy": {"Gwiriwch eich manylion:"}, "privacy_url": {"https://union.example/privacy"}, "link_days": {"14"}})
	if p.code != 200 {
		t.Fatalf("campaign: %d", p.code)
	}
	drain(t, s.svc)
	m4 := s.anon()
	mob4, _ := held(4)
	l4 := refreshLink(t, s, mob4)
	m4.get(l4)
	if p := m4.post(l4+"/confirm", url.Values{}); p.code != 200 || !strings.Contains(p.body, `id="done"`) {
		t.Fatalf("member 4 confirms: %d", p.code)
	}
	verMobile[4] = true
	before := map[int][2]string{}
	for i := 0; i < members; i++ {
		m, e := held(i)
		before[i] = [2]string{m, e}
	}

	// The register file: new values for everyone; member 2's mobile cell
	// blank (a blank does not erase a verified value either).
	fileMobile := func(i int) string {
		if i == 2 {
			return ""
		}
		return fmt.Sprintf("+4479111240%02d", i)
	}
	fileEmail := func(i int) string { return fmt.Sprintf("file%d@example.org", i) }
	csv := "member_number,name,mobile,email,workplace,branch,employer\n"
	for i := 0; i < members; i++ {
		mob := fileMobile(i)
		if mob != "" {
			mob = "0" + mob[3:]
		}
		csv += fmt.Sprintf("%s,Member %d,%s,%s,%s,Cardiff,Acme Transport Ltd\n", number(i), i+1, mob, fileEmail(i),
			[]string{"North Depot", "South Depot"}[i%2])
	}
	wantKept := map[string]int{}
	for i := 0; i < members; i++ {
		if verMobile[i] && fileMobile(i) != before[i][0] {
			wantKept["mobile"]++
		}
		if verEmail[i] && fileEmail(i) != before[i][1] {
			wantKept["email"]++
		}
	}
	regPath := fmt.Sprintf("/organiser/ballots/%d/register", b.ID)
	org.get(regPath)
	p = org.upload(regPath, "file", "register.csv", csv)
	if p.code != 200 || !strings.Contains(p.body, `id="kept"`) {
		t.Fatalf("preview: %d\n%.4000s", p.code, p.body)
	}
	for f, want := range wantKept {
		if got := fact(t, p.body, "kept-"+f); got != fmt.Sprint(want) {
			t.Errorf("preview: %s kept %s, want %d", f, got, want)
		}
	}
	if strings.Contains(p.body, `id="kept-language"`) {
		t.Error("preview: languages kept, but no member chose one")
	}
	sha := regexp.MustCompile(`name="sha256" value="([0-9a-f]{64})"`).FindStringSubmatch(p.body)
	if sha == nil {
		t.Fatal("no commit form")
	}
	if p := org.post(regPath+"/commit", url.Values{"sha256": {sha[1]}}); p.code != 200 {
		t.Fatalf("commit: %d", p.code)
	}
	for i := 0; i < members; i++ {
		mob, em := held(i)
		wantMob, wantEm := fileMobile(i), fileEmail(i)
		if verMobile[i] {
			wantMob = before[i][0]
		}
		if verEmail[i] {
			wantEm = before[i][1]
		}
		if mob != wantMob || em != wantEm {
			t.Errorf("member %d after the import: %s %s, want %s %s", i, mob, em, wantMob, wantEm)
		}
	}
	var detail string
	if err := s.pool.QueryRow(ctx, `SELECT detail FROM audit_log WHERE action = 'ballot.register_import' ORDER BY seq DESC LIMIT 1`).
		Scan(&detail); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(detail, fmt.Sprintf(`"kept":{"email":%d,"mobile":%d}`, wantKept["email"], wantKept["mobile"])) {
		t.Errorf("audit of the import: %s", detail)
	}

	// The union's file, dated before member 4 confirmed: kept, per field.
	yesterday := time.Now().Add(-24 * time.Hour).UTC().Format(time.RFC3339)
	p = org.upload("/organiser/refresh/import", "file", "union.csv",
		fmt.Sprintf("member_number,mobile,email,updated_at\n%s,07911 124099,,%s\n", number(4), yesterday))
	if p.code != 200 || !strings.Contains(p.body, "Imported: 0 changed, 1 kept") || fact(t, p.body, "kept-mobile") != "Mobile number: 1" {
		t.Fatalf("union file: %d\n%s", p.code, regexp.MustCompile(`(?s)<div class="notice" role="status" id="imported">.*?</div>`).FindString(p.body))
	}
	if mob, _ := held(4); mob != before[4][0] {
		t.Fatalf("the union's older file overwrote a confirmed mobile: %s", mob)
	}
}
