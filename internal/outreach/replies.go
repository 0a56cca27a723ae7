package outreach

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/unionvote/eballot/internal/audit"
	"github.com/unionvote/eballot/internal/gotv"
	"github.com/unionvote/eballot/internal/web/page"
)

//go:embed i18n/*.json
var catalogFS embed.FS

// cannedText holds the canned replies' SMS bodies by language, read from
// the catalogue (the same texts the pages use).
var cannedText = func() map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, lang := range []string{"en", "cy"} {
		b, err := catalogFS.ReadFile("i18n/" + lang + ".json")
		if err != nil {
			panic(err)
		}
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			panic(err)
		}
		out[lang] = map[string]string{}
		for _, c := range Canned {
			out[lang][c] = m["outreach.canned."+c+".sms"]
		}
	}
	return out
}()

// numberRE finds runs that look like phone numbers (7+ digits, allowing
// spaces, dots, dashes, brackets and a leading +): masked in replies so no
// number reaches a volunteer.
var numberRE = regexp.MustCompile(`\+?\(?[0-9][0-9 ().\-]{5,}[0-9]`)

// maskNumbers replaces phone-number-like runs of 7 or more digits.
func maskNumbers(s string) string {
	return numberRE.ReplaceAllStringFunc(s, func(m string) string {
		digits := 0
		for _, r := range m {
			if r >= '0' && r <= '9' {
				digits++
			}
		}
		if digits < 7 {
			return m
		}
		return numberRemoved
	})
}

// numberRemoved is what a masked number is stored as; pages show it in
// the reader's language (catalogue key outreach.number_removed).
const numberRemoved = "[number removed]"

// HandleReply routes an inbound text (gotv's signed webhook,
// gotv.Options.Replies) to the conversation of the volunteer who last
// texted that number in an open campaign. The number is matched by its
// keyed hash and never stored; phone-number-like runs in the body are
// masked. A text from a number no volunteer texted is ignored.
func (s *Service) HandleReply(ctx context.Context, from, body string, at time.Time) error {
	if from == "" {
		return nil
	}
	if !utf8.ValidString(body) {
		body = strings.ToValidUTF8(body, "\uFFFD")
	}
	body = maskNumbers(strings.TrimSpace(body))
	if r := []rune(body); len(r) > 1600 {
		body = string(r[:1600])
	}
	var conv, ballotID, campaignID int64
	err := s.pool.QueryRow(ctx, `SELECT cv.id, cv.ballot_id, cv.campaign_id FROM outreach_conversations cv
		JOIN outreach_campaigns c ON c.id = cv.campaign_id AND c.closed_at IS NULL
		WHERE cv.number_mac = $1 AND cv.first_sent_at IS NOT NULL ORDER BY cv.first_sent_at DESC, cv.id DESC LIMIT 1`,
		s.numberMAC(from)).Scan(&conv, &ballotID, &campaignID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("route reply: %w", err)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO outreach_messages (conversation_id, direction, body, at) VALUES ($1, 'in', $2, $3)`,
		conv, body, at); err != nil {
		return fmt.Errorf("route reply: %w", err)
	}
	s.log.InfoContext(ctx, "outreach reply routed", "campaign", campaignID, "conversation", conv)
	return nil
}

// QueueItem is one item of the organiser's queue: what the member wants,
// with first name and workplace; the organiser acts in the register.
type QueueItem struct {
	ID                   int64
	Tag                  string
	FirstName, Workplace string
	Volunteer            string
	CreatedAt            time.Time
}

// Queue lists the campaign's open queue items (postal packs wanted, wrong
// numbers) for its organisers.
func (s *Service) Queue(ctx context.Context, st page.Staff, campaignID int64) ([]QueueItem, error) {
	if st.Role != "organiser" {
		return nil, ErrForbidden
	}
	c, _, err := s.OrganiserCampaign(ctx, st, campaignID)
	if err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT q.id, q.tag, cv.member_id, cv.workplace, v.display_name, q.created_at
		FROM outreach_queue q JOIN outreach_conversations cv ON cv.id = q.conversation_id
		JOIN outreach_volunteers v ON v.id = cv.volunteer_id
		WHERE cv.campaign_id = $1 AND q.resolved_at IS NULL ORDER BY q.id`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("read queue: %w", err)
	}
	var out []QueueItem
	var ids []int64
	for rows.Next() {
		var q QueueItem
		var mid int64
		if err := rows.Scan(&q.ID, &q.Tag, &mid, &q.Workplace, &q.Volunteer, &q.CreatedAt); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read queue: %w", err)
		}
		out = append(out, q)
		ids = append(ids, mid)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read queue: %w", err)
	}
	if len(ids) > 0 {
		people, err := s.reg.People(ctx, c.BallotID, ids)
		if err != nil {
			return nil, fmt.Errorf("read queue: %w", err)
		}
		for i := range out {
			out[i].FirstName = people[ids[i]].FirstName
		}
	}
	return out, nil
}

// ResolveQueue marks a queue item done. Audited.
func (s *Service) ResolveQueue(ctx context.Context, st page.Staff, campaignID, itemID int64) error {
	if st.Role != "organiser" {
		return ErrForbidden
	}
	c, _, err := s.OrganiserCampaign(ctx, st, campaignID)
	if err != nil {
		return err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("resolve queue: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	tag, err := tx.Exec(ctx, `UPDATE outreach_queue q SET resolved_at = $3, resolved_by = $4 FROM outreach_conversations cv
		WHERE q.id = $1 AND cv.id = q.conversation_id AND cv.campaign_id = $2 AND q.resolved_at IS NULL`, itemID, campaignID, s.now(), st.Actor())
	if err != nil {
		return fmt.Errorf("resolve queue: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	if err := audit.Append(ctx, tx, st.Actor(), "outreach.queue_resolved", &c.BallotID, map[string]any{"campaign": campaignID, "item": itemID}); err != nil {
		return fmt.Errorf("resolve queue: %w", err)
	}
	return tx.Commit(ctx)
}

// Row is one line of the organiser's dashboard: a volunteer or a
// workplace, or "Other" (groups under the minimum cell merged).
type Row struct {
	Label                                string
	Other                                bool
	Members, Texted, Replied, OptOuts    int
	Voted, WrongNumber, PostalPack, Help int
}

// Dashboard is the campaign's figures by volunteer and by workplace.
type Dashboard struct {
	Campaign    Campaign
	MinCell     int
	Suppressed  bool // fewer members than the minimum cell: nothing shown
	Total       Row
	ByVolunteer []Row
	ByWorkplace []Row
	// Released: a turnout campaign's figures, as of the turnout release's
	// latest snapshot (AsOf; zero before the first), by its cells only.
	Released bool
	AsOf     time.Time
}

// Dashboard returns the campaign's figures for its organisers: texts
// sent, replies, tags and opt-outs, by volunteer and by workplace, counting
// members (a member is one conversation). Groups of fewer members than the
// union's minimum cell are merged into "Other" (gotv.Suppress); a campaign
// with fewer members in conversations than that shows nothing.
//
// That is for self-reported campaigns, whose figures do not depend on the
// marked register. A turnout campaign texts only members who had not
// voted when claimed, so each of its figures tells something of who voted
// when: they are released like turnout (issue 21), see releasedDashboard.
func (s *Service) Dashboard(ctx context.Context, st page.Staff, campaignID int64, otherLabel string) (*Dashboard, error) {
	c, b, err := s.OrganiserCampaign(ctx, st, campaignID)
	if err != nil {
		return nil, err
	}
	k, err := s.texter.MinCell(ctx, b.UnionID)
	if err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	if c.Source == SourceTurnout {
		return s.releasedDashboard(ctx, c, k, otherLabel)
	}
	d := &Dashboard{Campaign: c, MinCell: k}
	rows, err := s.pool.Query(ctx, `SELECT v.display_name || ' (#' || v.id || ')', cv.workplace, cv.first_sent_at IS NOT NULL,
		EXISTS (SELECT 1 FROM outreach_messages m WHERE m.conversation_id = cv.id AND m.direction = 'in'),
		coalesce((SELECT array_agg(t.tag) FROM outreach_tags t WHERE t.conversation_id = cv.id), '{}')
		FROM outreach_conversations cv JOIN outreach_volunteers v ON v.id = cv.volunteer_id
		WHERE cv.campaign_id = $1 AND cv.first_sent_at IS NOT NULL`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	byV, byW := map[string]*Row{}, map[string]*Row{}
	add := func(m map[string]*Row, label string, sent, replied bool, tags []string) {
		r := m[label]
		if r == nil {
			r = &Row{Label: label}
			m[label] = r
		}
		r.Members++
		if sent {
			r.Texted++
		}
		if replied {
			r.Replied++
		}
		for _, t := range tags {
			switch t {
			case "opt_out":
				r.OptOuts++
			case "voted":
				r.Voted++
			case "wrong_number":
				r.WrongNumber++
			case "postal_pack":
				r.PostalPack++
			case "needs_help":
				r.Help++
			}
		}
	}
	for rows.Next() {
		var vol, wp string
		var sent, replied bool
		var tags []string
		if err := rows.Scan(&vol, &wp, &sent, &replied, &tags); err != nil {
			rows.Close()
			return nil, fmt.Errorf("dashboard: %w", err)
		}
		add(byV, vol, sent, replied, tags)
		add(byW, wp, sent, replied, tags)
		add(map[string]*Row{"": &d.Total}, "", sent, replied, tags)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	if d.Total.Members < k {
		return &Dashboard{Campaign: c, MinCell: k, Suppressed: true}, nil
	}
	d.ByVolunteer = suppress(byV, k, otherLabel)
	d.ByWorkplace = suppress(byW, k, otherLabel)
	return d, nil
}

// suppress merges groups under k members into "Other" with gotv's rule
// (complementary suppression included); hidden breakdowns are empty.
func suppress(groups map[string]*Row, k int, otherLabel string) []Row {
	cells := make([]gotv.Cell, 0, len(groups))
	for label, r := range groups {
		cells = append(cells, gotv.Cell{Label: label, Entitled: r.Members})
	}
	shown, hidden := gotv.Suppress(cells, k, otherLabel)
	if hidden {
		return nil
	}
	shownLabels := map[string]bool{}
	for _, c := range shown {
		if !c.Other {
			shownLabels[c.Label] = true
		}
	}
	var out []Row
	other := Row{Label: otherLabel, Other: true}
	for _, c := range shown {
		if !c.Other {
			out = append(out, *groups[c.Label])
		}
	}
	for label, r := range groups {
		if shownLabels[label] {
			continue
		}
		other.Members += r.Members
		other.Texted += r.Texted
		other.Replied += r.Replied
		other.OptOuts += r.OptOuts
		other.Voted += r.Voted
		other.WrongNumber += r.WrongNumber
		other.PostalPack += r.PostalPack
		other.Help += r.Help
	}
	if other.Members > 0 {
		out = append(out, other)
	}
	return out
}

// releasedDashboard is a turnout campaign's dashboard under the turnout
// release (internal/gotv release.go, docs/threat-model.md "Turnout
// release"): one set of cells — the release's workplace cells, no
// breakdown by volunteer (a second, overlapping breakdown could be
// differenced against it) — at the release's snapshots only, each figure
// of each cell moving only by at least k and keeping at least k of the
// cell's members on either side (gotv.Counter). Members is the cell's size
// on the register; the totals are sums of released figures.
func (s *Service) releasedDashboard(ctx context.Context, c Campaign, k int, otherLabel string) (*Dashboard, error) {
	d := &Dashboard{Campaign: c, MinCell: k, Released: true}
	part, err := s.texter.Partition(ctx, c.BallotID, otherLabel)
	if err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	at, err := s.texter.ReleaseTimes(ctx, c.BallotID)
	if err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	if part == nil {
		d.Suppressed = true
		return d, nil
	}
	// When each member entered each figure: texted (first text), replied
	// (first reply), and each tag.
	const (
		fTexted = iota
		fReplied
		fOptOut
		fVoted
		fWrong
		fPostal
		fHelp
		nFigures
	)
	tagFigure := map[string]int{"opt_out": fOptOut, "voted": fVoted, "wrong_number": fWrong, "postal_pack": fPostal, "needs_help": fHelp}
	type event struct {
		cell, figure int
		at           time.Time
	}
	var events []event
	rows, err := s.pool.Query(ctx, `SELECT cv.workplace, cv.first_sent_at,
		(SELECT min(m.at) FROM outreach_messages m WHERE m.conversation_id = cv.id AND m.direction = 'in'),
		coalesce((SELECT array_agg(t.tag ORDER BY t.tag) FROM outreach_tags t WHERE t.conversation_id = cv.id), '{}'),
		coalesce((SELECT array_agg(t.tagged_at ORDER BY t.tag) FROM outreach_tags t WHERE t.conversation_id = cv.id), '{}')
		FROM outreach_conversations cv WHERE cv.campaign_id = $1 AND cv.first_sent_at IS NOT NULL`, c.ID)
	if err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	for rows.Next() {
		var wp string
		var sent time.Time
		var replied *time.Time
		var tags []string
		var tagged []time.Time
		if err := rows.Scan(&wp, &sent, &replied, &tags, &tagged); err != nil {
			rows.Close()
			return nil, fmt.Errorf("dashboard: %w", err)
		}
		cell := part.Cell(wp)
		if cell < 0 {
			continue
		}
		events = append(events, event{cell, fTexted, sent})
		if replied != nil {
			events = append(events, event{cell, fReplied, *replied})
		}
		for i, tg := range tags {
			if f, ok := tagFigure[tg]; ok && i < len(tagged) {
				events = append(events, event{cell, f, tagged[i]})
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	counters := make([][nFigures]gotv.Counter, len(part.Cells))
	for _, t := range at {
		var truth = make([][nFigures]int, len(part.Cells))
		for _, e := range events {
			if e.at.Before(t) {
				truth[e.cell][e.figure]++
			}
		}
		for ci, cell := range part.Cells {
			for f := 0; f < nFigures; f++ {
				counters[ci][f].Offer(truth[ci][f], cell.Entitled, k, t)
			}
		}
		d.AsOf = t
	}
	for ci, cell := range part.Cells {
		v := counters[ci]
		r := Row{Label: cell.Label, Other: cell.Other, Members: cell.Entitled, Texted: v[fTexted].Value,
			Replied: v[fReplied].Value, OptOuts: v[fOptOut].Value, Voted: v[fVoted].Value, WrongNumber: v[fWrong].Value,
			PostalPack: v[fPostal].Value, Help: v[fHelp].Value}
		d.ByWorkplace = append(d.ByWorkplace, r)
		d.Total.Members += r.Members
		d.Total.Texted += r.Texted
		d.Total.Replied += r.Replied
		d.Total.OptOuts += r.OptOuts
		d.Total.Voted += r.Voted
		d.Total.WrongNumber += r.WrongNumber
		d.Total.PostalPack += r.PostalPack
		d.Total.Help += r.Help
	}
	return d, nil
}
