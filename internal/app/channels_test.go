package app

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/descope/virtualwebauthn"

	"github.com/unionvote/eballot/internal/election/electiontest"
)

// channel is one way a member can try to vote: online after signing in
// (text code, passkey, pack code), or a paper logged by the scrutineer's
// staff (returned by post, or put in a workplace box).
type channel string

const (
	chText      channel = "text code"
	chPasskey   channel = "passkey"
	chPack      channel = "pack code"
	chPostal    channel = "postal"
	chWorkplace channel = "workplace"
)

var channels = []channel{chText, chPasskey, chPack, chPostal, chWorkplace}

func (c channel) online() bool { return c == chText || c == chPasskey || c == chPack }

// TestEveryChannelPair: one vote per member across channels (issue 18,
// docs/paper.md: the first recorded wins). For every ordered pair of
// channels, the same channel twice included, one member tries to vote by
// the first and then by the second, each the way a member or the
// scrutineer's staff would over HTTP: signed in by a text code from the
// invitation link, by a passkey registered earlier, or by the code on the
// postal pack, then asking for the authorisation to vote; or a paper
// logged on the scrutineer's return page. The first try succeeds, the
// second is refused with the rule's reason, and each member has exactly
// one mark in the marked register, made by the first channel, and at
// most one authorisation to vote online.
func TestEveryChannelPair(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	type pair struct{ first, second channel }
	var pairs []pair
	for _, a := range channels {
		for _, b := range channels {
			pairs = append(pairs, pair{a, b})
		}
	}
	mobile := func(i int) string { return fmt.Sprintf("+4477009005%02d", i) }
	b := electiontest.New(t, s.pool, electiontest.Options{ElectionID: "channel-pairs", Members: len(pairs), Open: true,
		Member: func(i int) (string, string, string) { return fmt.Sprintf("Member %d", i+1), mobile(i), "" }})
	scr := s.staff("scrutineer", 0)
	returns := fmt.Sprintf("/scrutineer/ballots/%d/postal", b.ID)
	textSignIn := func(i int) *browser { return s.textSignIn(b, i, mobile(i)) }
	// Members who will try a passkey add one first (signed in by a text
	// code, from the passkey page), as the service offers after sign-in.
	keys := map[int]*memberKey{}
	for i, p := range pairs {
		if p.first == chPasskey || p.second == chPasskey {
			keys[i] = s.addPasskey(textSignIn(i))
		}
	}
	// A workplace box for each workplace ballot, run by a presiding
	// officer signed in with a passkey.
	officers, boxes := s.workplaceBoxes(b)
	// packSignIn enters member i's pack code; a code is single use, so
	// the second try is refused there (its answer is returned).
	packSignIn := func(i int) (*browser, pageView) {
		code, err := s.svc.Auth.PackCode(ctx, b.ID, b.MemberIDs[i])
		if err != nil {
			t.Fatal(err)
		}
		return s.packSignIn(code)
	}
	// try is member i voting by c: the answer's status and body.
	try := func(i int, c channel, seed byte) pageView {
		switch c {
		case chPostal:
			scr.get(returns)
			return scr.post(returns, url.Values{"paper": {s.paperNumber(b, i)}})
		case chWorkplace:
			box, officer := boxes[i%2], officers[i%2]
			officer.get(box)
			return officer.post(box+"/issue", url.Values{"paper": {s.paperNumber(b, i)}})
		}
		var m *browser
		switch c {
		case chText:
			m = textSignIn(i)
		case chPasskey:
			m = s.passkeySignIn(b, keys[i])
		default:
			var p pageView
			if m, p = packSignIn(i); p.code != 200 {
				return p
			}
		}
		return m.authorise(b.ElectionID, blinded(t, s, b.ID, b.MemberIDs[i], seed))
	}
	for i, p := range pairs {
		if r := try(i, p.first, 1); r.code != 200 {
			t.Errorf("member %d, %s first: %d %.300s", i, p.first, r.code, r.body)
			continue
		}
		r := try(i, p.second, 2)
		want, status := "", http.StatusConflict
		switch {
		case p.first == chPack && p.second == chPack:
			want, status = "used already", http.StatusBadRequest // refused at sign-in
		case p.first.online() && p.second.online():
			want = "already_authorised"
		case p.first.online() && p.second == chWorkplace:
			want = "has already voted online"
		case p.first.online():
			want = "has already been authorised to vote online"
		case p.second.online():
			want = "postal_recorded"
		case p.second == chWorkplace:
			want = "the member has voted and cannot vote again" // at the box
		default:
			want = "already" // a second paper for the same number
		}
		if r.code != status || !strings.Contains(r.body, want) {
			t.Errorf("member %d, %s then %s: %d, want %d %q: %.400s", i, p.first, p.second, r.code, status, want, r.body)
		}
	}
	// The marked register: one mark per member, by the first channel.
	for i, p := range pairs {
		var marks int
		var ch string
		if err := s.pool.QueryRow(ctx, `SELECT count(*), coalesce(min(channel), '') FROM marked_register WHERE ballot_id = $1 AND member_id = $2`,
			b.ID, b.MemberIDs[i]).Scan(&marks, &ch); err != nil {
			t.Fatal(err)
		}
		wantCh := string(p.first)
		if p.first.online() {
			wantCh = "online"
		}
		if marks != 1 || ch != wantCh {
			t.Errorf("member %d (%s then %s): %d marks, channel %q; want 1 by %s", i, p.first, p.second, marks, ch, wantCh)
		}
	}
	var issued, want int
	for _, p := range pairs {
		if p.first.online() {
			want++
		}
	}
	s.pool.QueryRow(ctx, `SELECT count(*) FROM marked_register WHERE ballot_id = $1 AND channel = 'online'`, b.ID).Scan(&issued)
	if issued != want {
		t.Errorf("%d online authorisations, want %d (one per member who voted online first)", issued, want)
	}
}

// memberKey is a member's passkey on a virtual authenticator.
type memberKey struct {
	auth virtualwebauthn.Authenticator
	cred virtualwebauthn.Credential
}

// rp is the site as a relying party of the virtual authenticators.
func (s *site) rp() virtualwebauthn.RelyingParty {
	return virtualwebauthn.RelyingParty{Name: "Union e-ballot", ID: "localhost", Origin: s.base}
}

// paperNumber is member i's voting-paper number (printed on their pack).
func (s *site) paperNumber(b *electiontest.Ballot, i int) string {
	s.t.Helper()
	var n int
	if err := s.pool.QueryRow(context.Background(), `SELECT paper_number FROM register_entries WHERE ballot_id = $1 AND member_id = $2`,
		b.ID, b.MemberIDs[i]).Scan(&n); err != nil {
		s.t.Fatal(err)
	}
	return fmt.Sprint(n)
}

// textSignIn follows member i's invitation link, asks for a code, enters
// the one texted to mobile and opens the ballot's voting page.
func (s *site) textSignIn(b *electiontest.Ballot, i int, mobile string) *browser {
	t := s.t
	t.Helper()
	link, err := s.svc.Auth.InvitationURL(context.Background(), b.ID, b.MemberIDs[i])
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(link)
	m := s.anon()
	if p := m.get(u.Path); p.code != 200 {
		t.Fatalf("member %d invitation: %d", i, p.code)
	}
	if p := m.post(u.Path, url.Values{}); p.code != 200 || !strings.Contains(p.body, `name="code"`) {
		t.Fatalf("member %d asks for a code: %d %.300s", i, p.code, p.body)
	}
	if p := m.post("/auth/code", url.Values{"code": {smsCode(t, s, mobile)}}); p.code != 200 {
		t.Fatalf("member %d enters the code: %d %.300s", i, p.code, p.body)
	}
	m.get("/vote/" + b.ElectionID)
	return m
}

// addPasskey registers a passkey for the signed-in member m from the
// passkey page.
func (s *site) addPasskey(m *browser) *memberKey {
	t := s.t
	t.Helper()
	pg := m.get("/auth/passkey")
	r := m.Send(http.MethodPost, "/auth/passkey/register/begin", "application/json", strings.NewReader("{}"), map[string]string{"X-CSRF-Token": m.CSRF})
	ao, err := virtualwebauthn.ParseAttestationOptions(r.Body)
	if pg.code != 200 || r.Code != 200 || err != nil {
		t.Fatalf("passkey page %d, begin %d: %v", pg.code, r.Code, err)
	}
	k := &memberKey{cred: ecCredential(t)}
	k.auth = virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserHandle: []byte(ao.UserID)})
	r = m.Send(http.MethodPost, "/auth/passkey/register/finish", "application/json",
		strings.NewReader(virtualwebauthn.CreateAttestationResponse(s.rp(), k.auth, k.cred, *ao)), map[string]string{"X-CSRF-Token": m.CSRF})
	if r.Code != 200 {
		t.Fatalf("passkey registration: %d %s", r.Code, r.Body)
	}
	k.auth.AddCredential(k.cred)
	return k
}

// passkeySignIn signs a member in with their passkey, from the sign-in
// page, and opens the ballot's voting page.
func (s *site) passkeySignIn(b *electiontest.Ballot, k *memberKey) *browser {
	t := s.t
	t.Helper()
	m := s.anon()
	m.get("/auth/signin")
	r := m.Send(http.MethodPost, "/auth/passkey/login/begin", "application/json", strings.NewReader("{}"), map[string]string{"X-CSRF-Token": m.CSRF})
	po, err := virtualwebauthn.ParseAssertionOptions(r.Body)
	if r.Code != 200 || err != nil {
		t.Fatalf("passkey sign-in begin: %d %v", r.Code, err)
	}
	k.cred.Counter++
	r = m.Send(http.MethodPost, "/auth/passkey/login/finish", "application/json",
		strings.NewReader(virtualwebauthn.CreateAssertionResponse(s.rp(), k.auth, k.cred, *po)), map[string]string{"X-CSRF-Token": m.CSRF})
	if r.Code != 200 {
		t.Fatalf("passkey sign-in: %d %s", r.Code, r.Body)
	}
	m.get("/vote/" + b.ElectionID)
	return m
}

// packSignIn types a pack code on the short URL printed in the pack; the
// answer is returned (a used code is refused there).
func (s *site) packSignIn(code string) (*browser, pageView) {
	s.t.Helper()
	m := s.anon()
	m.get("/p")
	return m, m.post("/p", url.Values{"code": {code}})
}
