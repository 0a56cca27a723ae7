package electiontest

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"testing"
	"time"

	"github.com/unionvote/eballot/internal/election"
)

// UnionElection is UnionElectionDraft, then the scrutineer approves the
// paper as it now is ([Approve]) and the ballot opens.
func UnionElection(t testing.TB, b *Ballot) {
	t.Helper()
	UnionElectionDraft(t, b)
	Approve(t, b.Admin, b.ID)
	must(t, b.Admin.Open(context.Background(), "scrutineer:test", b.ID))
}

// UnionElectionDraft turns b, made with Options.Ready and not yet open,
// into a draft union election (issue 26), ready to open: a ranked (STV, Meek) contest
// "c1" for 2 seats of 4 candidates (k1–k4; k1 has an English and Welsh
// election address with a 60×40 PNG photo, k2 an English one), a
// choose-one contest "c2" of 2 candidates, and an independent person who
// is trustee 2; bilingual when b was made with Options.Welsh.
func UnionElectionDraft(t testing.TB, b *Ballot) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	cfg := IAConfig()
	cfg.Questions, cfg.Texts = nil, nil
	cfg.Election = &election.ElectionSetup{AddressWords: 500}
	if b.Welsh {
		cfg.Bilingual, cfg.TitleCy = true, "Etholiad y weithrediaeth 2027"
	}
	must(t, b.Admin.Configure(ctx, "staff:test", b.ID, election.BallotSetup{Title: "Executive election 2027", Kind: "union_election",
		OpensAt: now.Add(-time.Hour), ClosesAt: now.Add(7 * 24 * time.Hour), Config: cfg}))
	_, err := b.Admin.AddContest(ctx, "staff:test", b.ID, election.ContestInput{Title: "National Executive",
		TitleCy: "Pwyllgor Gwaith Cenedlaethol", Candidates: "Ann Jones\nBob Smith\nCerys Evans\nDewi Lloyd",
		Method: election.MethodRanked, Rule: "meek", Seats: 2, Min: 1, Max: 4})
	must(t, err)
	_, err = b.Admin.AddContest(ctx, "staff:test", b.ID, election.ContestInput{Title: "President", TitleCy: "Llywydd",
		Candidates: "Eve Price\nFrank Hughes", Method: election.MethodChoose, Seats: 1, Min: 0, Max: 1})
	must(t, err)
	must(t, b.Admin.SetElectionSettings(ctx, "staff:test", b.ID, 500,
		&election.IndependentPerson{Name: "Jo Bloggs", Organisation: "Ballot Services Ltd", Trustee: 2, KeyRequired: true}))
	img := image.NewRGBA(image.Rect(0, 0, 60, 40))
	for x := 0; x < 60; x++ {
		img.Set(x, x%40, color.RGBA{0, 90, 48, 255})
	}
	var photo bytes.Buffer
	must(t, png.Encode(&photo, img))
	must(t, b.Admin.SetAddress(ctx, "staff:test", b.ID, "c1", "k1", election.AddressInput{
		TextEn: "I will fight for fair pay.\nAnd for safe depots.", TextCy: "Byddaf yn ymladd dros gyflog teg.", Photo: photo.Bytes()}))
	must(t, b.Admin.SetAddress(ctx, "staff:test", b.ID, "c1", "k2", election.AddressInput{TextEn: "Bob for the executive."}))
}
