package app

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"mime/multipart"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/web"
)

// TestUnionElectionOverHTTP drives a union election's set-up through the
// real router, session and CSRF check: a contest without the token is
// refused; a candidate's photo larger than the site's usual 1 MB body
// limit reaches the page (its route accepts more, LargeBodies) and is
// refused by size once re-encoded, a smaller one is kept, a body over the
// route's limit is refused at once; the scrutineer opens the ballot and
// members read the addresses with the site's headers.
func TestUnionElectionOverHTTP(t *testing.T) {
	s := newSite(t)
	b := electiontest.New(t, s.pool, electiontest.Options{ElectionID: "exec-http", Members: 2, Ready: true})
	electiontest.UnionElectionDraft(t, b)
	org := s.staff("organiser", b.UnionID)
	base := fmt.Sprintf("/organiser/ballots/%d/election", b.ID)
	if p := org.get(base); p.code != 200 || !strings.Contains(p.body, "National Executive") {
		t.Fatalf("election page: %d", p.code)
	}
	contest := url.Values{"title": {"Treasurer"}, "candidates": {"G Jones\nH Smith"}, "method": {"ranked"}, "rule": {"ers97"},
		"seats": {"1"}, "min": {"1"}, "max": {"2"}}
	wrong := url.Values{"csrf": {"wrong"}}
	for k, v := range contest {
		wrong[k] = v
	}
	if p := org.post(base+"/contests", wrong); p.code != 403 {
		t.Fatalf("contest without the CSRF token: %d", p.code)
	}
	if p := org.post(base+"/contests", contest); p.code != 200 || !strings.Contains(p.body, "Contest added.") {
		t.Fatalf("contest: %d", p.code)
	}

	addr := base + "/contests/c1/candidates/k3/address"
	org.get(addr)
	upload := func(photo []byte) pageView {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		_ = mw.WriteField("csrf", org.CSRF) // first, as the page's form has it
		_ = mw.WriteField("text_en", "Cerys for the executive.")
		fw, _ := mw.CreateFormFile("photo", "cerys.jpg")
		fw.Write(photo)
		mw.Close()
		return view(org.Send("POST", addr, mw.FormDataContentType(), &buf, nil))
	}
	big := noiseJPEG(t, 1100)
	if len(big) <= web.MaxBody {
		t.Fatalf("test photo of %d bytes is not over the usual body limit", len(big))
	}
	if p := upload(big); p.code != 422 || !strings.Contains(p.body, "once saved") {
		t.Fatalf("a %d-byte photo: %d\n%.1500s", len(big), p.code, p.body)
	}
	if p := upload(make([]byte, 6<<20)); p.code != 413 {
		t.Fatalf("a body over the route's limit: %d", p.code)
	}
	p := upload(noiseJPEG(t, 300))
	if p.code != 303 && p.code != 200 {
		t.Fatalf("photo: %d\n%.1500s", p.code, p.body)
	}
	if p := org.get(base); !strings.Contains(p.body, "Cerys Evans – election address, photo") {
		t.Fatalf("address not recorded:\n%.3000s", p.body)
	}

	scr := s.staff("scrutineer", 0)
	scr.approve(strconv.FormatInt(b.ID, 10)) // the paper as it now is, with its candidates' addresses
	if p := scr.post(fmt.Sprintf("/scrutineer/ballots/%d/open", b.ID), url.Values{"confirm": {"exec-http"}}); p.code != 200 || !strings.Contains(p.body, "The ballot is open.") {
		t.Fatalf("open: %d\n%.2000s", p.code, p.body)
	}
	pub := s.anon()
	p = pub.get("/ballots/exec-http/addresses")
	if p.code != 200 || !strings.Contains(p.body, "Cerys for the executive.") || !strings.Contains(p.body, "Treasurer") {
		t.Fatalf("addresses page: %d", p.code)
	}
	i := strings.Index(p.body, `/ballots/exec-http/addresses/c1/k3/photo?v=`)
	if i < 0 {
		t.Fatal("no photo link")
	}
	ph := pub.get(p.body[i : i+len(`/ballots/exec-http/addresses/c1/k3/photo?v=`)+64])
	if ph.code != 200 || ph.h.Get("Content-Type") != "image/jpeg" || ph.h.Get("X-Content-Type-Options") != "nosniff" ||
		!strings.Contains(ph.h.Get("Cache-Control"), "immutable") {
		t.Fatalf("photo: %d %v", ph.code, ph.h)
	}
}

// noiseJPEG is a side×side JPEG of random pixels (which compress badly).
func noiseJPEG(t *testing.T, side int) []byte {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	img := image.NewRGBA(image.Rect(0, 0, side, side))
	for y := 0; y < side; y++ {
		for x := 0; x < side; x++ {
			img.Set(x, y, color.RGBA{uint8(r.Uint32()), uint8(r.Uint32()), uint8(r.Uint32()), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 100}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
