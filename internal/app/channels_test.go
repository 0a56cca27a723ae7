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
	paperNumber := func(i int) string {
		var n int
		if err := s.pool.QueryRow(ctx, `SELECT paper_number FROM register_entries WHERE ballot_id = $1 AND member_id = $2`, b.ID, b.MemberIDs[i]).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(n)
	}
	// textSignIn follows the invitation link, asks for a code and enters
	// the one texted to member i.
	textSignIn := func(i int) *browser {
		link, err := s.svc.Auth.InvitationURL(ctx, b.ID, b.MemberIDs[i])
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
		if p := m.post("/auth/code", url.Values{"code": {smsCode(t, s, mobile(i))}}); p.code != 200 {
			t.Fatalf("member %d enters the code: %d %.300s", i, p.code, p.body)
		}
		m.get("/vote/" + b.ElectionID)
		return m
	}
	// Members who will try a passkey add one first (signed in by a text
	// code, from the passkey page), as the service offers after sign-in.
	rp := virtualwebauthn.RelyingParty{Name: "Union e-ballot", ID: "localhost", Origin: s.base}
	type passkey struct {
		auth virtualwebauthn.Authenticator
		cred virtualwebauthn.Credential
	}
	keys := map[int]*passkey{}
	for i, p := range pairs {
		if p.first != chPasskey && p.second != chPasskey {
			continue
		}
		m := textSignIn(i)
		pg := m.get("/auth/passkey")
		r := m.Send(http.MethodPost, "/auth/passkey/register/begin", "application/json", strings.NewReader("{}"), map[string]string{"X-CSRF-Token": m.CSRF})
		ao, err := virtualwebauthn.ParseAttestationOptions(r.Body)
		if pg.code != 200 || r.Code != 200 || err != nil {
			t.Fatalf("member %d passkey page %d, begin %d: %v", i, pg.code, r.Code, err)
		}
		k := &passkey{cred: ecCredential(t)}
		k.auth = virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserHandle: []byte(ao.UserID)})
		r = m.Send(http.MethodPost, "/auth/passkey/register/finish", "application/json",
			strings.NewReader(virtualwebauthn.CreateAttestationResponse(rp, k.auth, k.cred, *ao)), map[string]string{"X-CSRF-Token": m.CSRF})
		if r.Code != 200 {
			t.Fatalf("member %d passkey registration: %d %s", i, r.Code, r.Body)
		}
		k.auth.AddCredential(k.cred)
		keys[i] = k
	}
	passkeySignIn := func(i int) *browser {
		m := s.anon()
		m.get("/auth/signin")
		r := m.Send(http.MethodPost, "/auth/passkey/login/begin", "application/json", strings.NewReader("{}"), map[string]string{"X-CSRF-Token": m.CSRF})
		po, err := virtualwebauthn.ParseAssertionOptions(r.Body)
		if r.Code != 200 || err != nil {
			t.Fatalf("member %d passkey sign-in begin: %d %v", i, r.Code, err)
		}
		r = m.Send(http.MethodPost, "/auth/passkey/login/finish", "application/json",
			strings.NewReader(virtualwebauthn.CreateAssertionResponse(rp, keys[i].auth, keys[i].cred, *po)), map[string]string{"X-CSRF-Token": m.CSRF})
		if r.Code != 200 {
			t.Fatalf("member %d passkey sign-in: %d %s", i, r.Code, r.Body)
		}
		m.get("/vote/" + b.ElectionID)
		return m
	}
	// packSignIn enters member i's pack code; a code is single use, so
	// the second try is refused there (its answer is returned).
	packSignIn := func(i int) (*browser, pageView) {
		code, err := s.svc.Auth.PackCode(ctx, b.ID, b.MemberIDs[i])
		if err != nil {
			t.Fatal(err)
		}
		m := s.anon()
		m.get("/p")
		return m, m.post("/p", url.Values{"code": {code}})
	}
	// try is member i voting by c: the answer's status and body.
	try := func(i int, c channel, seed byte) pageView {
		switch c {
		case chPostal, chWorkplace:
			scr.get(returns)
			return scr.post(returns, url.Values{"paper": {paperNumber(i)}, "channel": {string(c)}})
		}
		var m *browser
		switch c {
		case chText:
			m = textSignIn(i)
		case chPasskey:
			m = passkeySignIn(i)
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
		case p.first.online():
			want = "has already been authorised to vote online"
		case p.second.online():
			want = "postal_recorded"
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
