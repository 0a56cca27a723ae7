package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/unionvote/eballot/crypto/blind"
	"github.com/unionvote/eballot/internal/election/electiontest"
)

// blinded is a well-formed blinded message for a member's authorisation.
func blinded(t *testing.T, s *site, ballotID int64, memberID int64, seed byte) []byte {
	t.Helper()
	var pub []byte
	if err := s.pool.QueryRow(context.Background(), `SELECT st.issuer_public FROM ballot_styles st JOIN register_entries r
		ON r.ballot_id = st.ballot_id AND r.style = st.style WHERE r.ballot_id = $1 AND r.member_id = $2`, ballotID, memberID).Scan(&pub); err != nil {
		t.Fatal(err)
	}
	pk, err := blind.ParsePublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	msg := make([]byte, 32)
	msg[0], msg[1] = byte(memberID), seed
	prepared, err := blind.Prepare(rand.Reader, msg)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := blind.Blind(rand.Reader, pk, prepared)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The scrutineer records postal returns by voting-paper number; a postal
// return blocks an online authorisation and the other way round, with
// clear messages. Replacements: the organiser asks, the scrutineer (a
// second person) decides; audited and counted.
func TestPostalReturnsAndReplacementsPages(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	b := electiontest.New(t, s.pool, electiontest.Options{ElectionID: "postal-pages", Members: 4, Open: true})
	paper := func(i int) int {
		var n int
		s.pool.QueryRow(ctx, `SELECT paper_number FROM register_entries WHERE ballot_id = $1 AND member_id = $2`, b.ID, b.MemberIDs[i]).Scan(&n)
		return n
	}
	scr := s.staff("scrutineer", 0)
	org := s.staff("organiser", b.UnionID)
	postal := fmt.Sprintf("/scrutineer/ballots/%d/postal", b.ID)
	if p := scr.get(postal); p.code != 200 || !strings.Contains(p.body, "<td>North Depot</td>") || strings.Contains(p.body, "<td>north-depot</td>") {
		t.Fatalf("postal page (counts by workplace name): %d", p.code)
	}
	if p := org.get(postal); p.code != 403 {
		t.Fatalf("organiser on the postal page: %d", p.code)
	}

	// Member 0 is authorised online (through the member's own request).
	if _, err := s.svc.Issuance.Authorise(ctx, b.ElectionID, b.MemberIDs[0], blinded(t, s, b.ID, b.MemberIDs[0], 1)); err != nil {
		t.Fatal(err)
	}
	// Postal return for member 1: recorded, then blocks online.
	p := scr.post(postal, url.Values{"paper": {fmt.Sprint(paper(1))}})
	if p.code != 200 || !strings.Contains(p.body, fmt.Sprintf("Postal vote recorded for voting paper %d.", paper(1))) {
		t.Fatalf("record postal: %d %s", p.code, p.body)
	}
	if _, err := s.svc.Issuance.Authorise(ctx, b.ElectionID, b.MemberIDs[1], blinded(t, s, b.ID, b.MemberIDs[1], 1)); err == nil ||
		!strings.Contains(err.Error(), "postal vote is already recorded") {
		t.Fatalf("online after postal: %v", err)
	}
	for _, c := range []struct {
		paper string
		code  int
		want  string
	}{
		{fmt.Sprint(paper(1)), 409, "A postal vote is already recorded for voting paper"},
		{fmt.Sprint(paper(0)), 409, "has already been authorised to vote online: this postal vote must not be counted"},
		{"999", 422, "There is no voting paper 999 in this ballot"},
		{"seventeen", 422, "a whole number such as 17"},
		{"-1", 422, "a whole number such as 17"},
		{"", 422, "a whole number such as 17"},
	} {
		if p := scr.post(postal, url.Values{"paper": {c.paper}}); p.code != c.code || !strings.Contains(p.body, c.want) {
			t.Errorf("paper %q: %d, want %d with %q", c.paper, p.code, c.code, c.want)
		}
	}
	// The same refusal in Welsh once the scrutineer picks Cymraeg.
	scr.get(postal + "?lang=cy")
	if p := scr.post(postal, url.Values{"paper": {"999"}}); p.code != 422 || !strings.Contains(p.body, "Nid oes papur pleidleisio 999 yn y bleidlais hon") {
		t.Errorf("Welsh refusal: %d %s", p.code, p.body)
	}
	scr.get(postal + "?lang=en")

	// Replacement of member 0's lost authorisation.
	orgPath := fmt.Sprintf("/organiser/ballots/%d/replacements", b.ID)
	org.get(orgPath)
	if p := org.post(orgPath, url.Values{"member_number": {"M000001"}, "reason": {""}}); p.code != 422 || !strings.Contains(p.body, "Say why") {
		t.Fatalf("no reason: %d", p.code)
	}
	if p := org.post(orgPath, url.Values{"member_number": {"NOPE"}, "reason": {"Lost phone"}}); p.code != 422 || !strings.Contains(p.body, "No member with that number") {
		t.Fatalf("unknown member: %d", p.code)
	}
	p = org.post(orgPath, url.Values{"member_number": {"M000001"}, "reason": {"Phone lost before casting"}})
	if p.code != 200 || !strings.Contains(p.body, "The request was sent to the scrutineer.") || !strings.Contains(p.body, "Waiting for the scrutineer") {
		t.Fatalf("request: %d %s", p.code, p.body)
	}
	var rid int64
	s.pool.QueryRow(ctx, `SELECT id FROM replacement_requests WHERE ballot_id = $1`, b.ID).Scan(&rid)
	// The organiser cannot decide; another union's organiser cannot see.
	if p := org.post(fmt.Sprintf("/scrutineer/ballots/%d/replacements/%d", b.ID, rid), url.Values{"decision": {"approve"}}); p.code != 403 {
		t.Fatalf("organiser decided: %d", p.code)
	}
	other := electiontest.New(t, s.pool, electiontest.Options{ElectionID: "postal-other", Members: 1})
	if p := s.staff("organiser", other.UnionID).get(orgPath); p.code != 404 {
		t.Fatalf("another union: %d", p.code)
	}
	scrPath := fmt.Sprintf("/scrutineer/ballots/%d/replacements", b.ID)
	if p := scr.get(scrPath); p.code != 200 || !strings.Contains(p.body, "Phone lost before casting") {
		t.Fatalf("scrutineer list: %d", p.code)
	}
	p = scr.post(fmt.Sprintf("%s/%d", scrPath, rid), url.Values{"decision": {"approve"}})
	if p.code != 200 || !strings.Contains(p.body, "The replacement was approved") {
		t.Fatalf("approve: %d %s", p.code, p.body)
	}
	if p := scr.post(fmt.Sprintf("%s/%d", scrPath, rid), url.Values{"decision": {"approve"}}); p.code != 409 || !strings.Contains(p.body, "already been decided") {
		t.Fatalf("decide twice: %d", p.code)
	}
	// Member 0 can be authorised again; the replaced one still counts.
	if _, err := s.svc.Issuance.Authorise(ctx, b.ElectionID, b.MemberIDs[0], blinded(t, s, b.ID, b.MemberIDs[0], 2)); err != nil {
		t.Fatalf("authorise after replacement: %v", err)
	}
	cs, err := s.svc.Issuance.CountsFor(ctx, b.ElectionID)
	if err != nil {
		t.Fatal(err)
	}
	var replaced, postalN int
	for _, c := range cs {
		replaced += c.Replaced
		postalN += c.Postal
	}
	if replaced != 1 || postalN != 1 {
		t.Fatalf("counts: replaced %d postal %d", replaced, postalN)
	}
	var audited int
	s.pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE ballot_id = $1 AND action IN
		('marked_register.postal', 'authorisation.replacement_requested', 'authorisation.replacement_decided')`, b.ID).Scan(&audited)
	if audited != 3 {
		t.Fatalf("%d audit entries, want 3", audited)
	}

	// A request for a member with no authorisation looks exactly like any
	// other to the organiser (who must not learn who has voted); only the
	// scrutineer finds there is nothing to replace, and refuses.
	var marked int
	s.pool.QueryRow(ctx, `SELECT count(*) FROM marked_register WHERE ballot_id = $1 AND member_id = $2`, b.ID, b.MemberIDs[3]).Scan(&marked)
	if marked != 0 {
		t.Fatalf("member 3 unexpectedly marked")
	}
	p = org.post(orgPath, url.Values{"member_number": {"M000004"}, "reason": {"Phone lost"}})
	if p.code != 200 || !strings.Contains(p.body, "The request was sent to the scrutineer.") {
		t.Fatalf("request for a member who has not voted: %d %s", p.code, p.body)
	}
	var rid2 int64
	s.pool.QueryRow(ctx, `SELECT id FROM replacement_requests WHERE ballot_id = $1 AND member_id = $2`, b.ID, b.MemberIDs[3]).Scan(&rid2)
	if p := scr.post(fmt.Sprintf("%s/%d", scrPath, rid2), url.Values{"decision": {"approve"}}); p.code != 409 || !strings.Contains(p.body, "no online authorisation to replace") {
		t.Fatalf("approve with nothing to replace: %d", p.code)
	}
	if p := scr.post(fmt.Sprintf("%s/%d", scrPath, rid2), url.Values{"decision": {"deny"}}); p.code != 200 {
		t.Fatalf("refuse: %d", p.code)
	}
	_ = base64.StdEncoding
}
