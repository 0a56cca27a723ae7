package systemtest

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/unionvote/eballot/internal/app"
	"github.com/unionvote/eballot/internal/web"
)

// TestOversizedBodies sends every state-changing route a body over the
// service's limit (with a valid CSRF token in the header, so the body
// reaches the handler): each answers 413, never reads it all, never 500.
// The register upload takes up to election.MaxRegisterBytes; everything
// else is bounded at web.MaxBody.
func TestOversizedBodies(t *testing.T) {
	s := newSystem(t, 2)
	cid := s.newCampaign()
	params := map[string]string{"election": s.ballot.ElectionID, "id": fmt.Sprint(s.ballot.ID), "cid": fmt.Sprint(cid), "token": strings.Repeat("A", 43)}
	org := s.staff("organiser", s.ballot.UnionID)
	org.signedInPage("organiser")
	scr := s.staff("scrutineer", 0)
	scr.signedInPage("scrutineer")
	mem := s.member(0)
	mem.signedInPage("member")
	n := 0
	for _, rt := range s.routes() {
		method, route := rt[0], rt[1]
		if !unsafeMethod(method) || route == "/static/*" {
			continue
		}
		size := web.BodyLimit(app.LargeBodies, fill(route, params)) + 1<<20
		c := mem
		switch {
		case strings.HasPrefix(route, "/organiser"):
			c = org
		case strings.HasPrefix(route, "/scrutineer"):
			c = scr
		}
		for _, ctype := range []string{"application/x-www-form-urlencoded", "application/json"} {
			body := io.LimitReader(zeros{}, size)
			hdr := map[string]string{"X-CSRF-Token": c.CSRF}
			req, _ := http.NewRequest(method, c.URL(fill(route, params)), body)
			req.ContentLength = size
			req.Header.Set("Content-Type", ctype)
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			if strings.HasPrefix(route, "/ledger/") {
				req.Header.Del("X-CSRF-Token")
				c = s.client()
				c.HTTP.Jar = nil
			}
			r := c.do(req)
			n++
			if r.code != http.StatusRequestEntityTooLarge {
				t.Errorf("%s %s (%s, %d bytes): %d %.200s", method, route, ctype, size, r.code, r.body)
			}
			wantSecurityHeaders(t, "413 "+route, r.h)
		}
	}
	// A chunked body (no Content-Length) over the limit is cut off too.
	mem = s.member(0)
	mem.signedInPage("member")
	req, _ := http.NewRequest("POST", mem.URL("/vote/"+s.ballot.ElectionID+"/authorise"),
		io.MultiReader(strings.NewReader(`{"blinded":"`), io.LimitReader(zeros{}, 4<<20)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", mem.CSRF)
	if r := mem.do(req); r.code != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked oversized authorise: %d %s", r.code, r.body)
	}
	t.Logf("%d oversized requests refused", n)
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = '0'
	}
	return len(p), nil
}
