package election_test

import (
	"strings"
	"testing"
	"time"

	"github.com/unionvote/eballot/internal/election"
)

func londonTime(t *testing.T, s string) time.Time {
	t.Helper()
	l, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", s, l)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func utcTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// s.226A: notice not later than the 7th day, sample paper not later than
// the 3rd day before the opening day, days counted in Europe/London.
func TestNoticeDeadlines(t *testing.T) {
	era25, err := election.RegimeByID("era25")
	must(t, err)
	for _, tc := range []struct {
		name                    string
		opening, notice, sample time.Time
		allowed                 bool
		earliest                time.Time // zero: none
	}{
		{"on the last days (BST)", londonTime(t, "2026-06-15 09:00"), londonTime(t, "2026-06-08 23:30"), londonTime(t, "2026-06-12 23:59"),
			true, londonTime(t, "2026-06-15 00:00")},
		{"notice 23:30 UTC is the next London day", londonTime(t, "2026-06-15 09:00"), utcTime(t, "2026-06-08T23:30:00Z"), londonTime(t, "2026-06-12 10:00"),
			false, londonTime(t, "2026-06-16 00:00")},
		{"clocks go forward: opening at 00:00 BST is 23:00 UTC the day before", utcTime(t, "2026-03-29T23:00:00Z"), londonTime(t, "2026-03-23 10:00"), londonTime(t, "2026-03-27 10:00"),
			true, utcTime(t, "2026-03-29T23:00:00Z")},
		{"clocks go forward: one minute earlier is a day short", utcTime(t, "2026-03-29T22:59:00Z"), londonTime(t, "2026-03-23 10:00"), londonTime(t, "2026-03-27 10:00"),
			false, utcTime(t, "2026-03-29T23:00:00Z")},
		{"clocks go back: notice at 23:30 BST", utcTime(t, "2026-10-31T00:00:00Z"), utcTime(t, "2026-10-24T22:30:00Z"), londonTime(t, "2026-10-28 12:00"),
			true, utcTime(t, "2026-10-31T00:00:00Z")},
		{"clocks go back: notice at 00:30 BST on the next day", utcTime(t, "2026-10-31T00:00:00Z"), utcTime(t, "2026-10-24T23:30:00Z"), londonTime(t, "2026-10-28 12:00"),
			false, utcTime(t, "2026-11-01T00:00:00Z")},
		{"sample paper is the later clock", londonTime(t, "2026-12-08 12:00"), londonTime(t, "2026-12-01 09:00"), londonTime(t, "2026-12-06 09:00"),
			false, londonTime(t, "2026-12-09 00:00")},
		{"sample paper not sent", londonTime(t, "2026-12-20 12:00"), londonTime(t, "2026-12-01 09:00"), time.Time{},
			false, time.Time{}},
		{"notice not sent", londonTime(t, "2026-12-20 12:00"), time.Time{}, londonTime(t, "2026-12-01 09:00"),
			false, time.Time{}},
		{"opening before the notice", londonTime(t, "2026-12-01 08:00"), londonTime(t, "2026-12-01 09:00"), londonTime(t, "2026-12-01 09:00"),
			false, londonTime(t, "2026-12-08 00:00")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, earliest := election.OpeningAllowed(era25, tc.opening, tc.notice, tc.sample)
			if ok != tc.allowed || !earliest.Equal(tc.earliest) {
				t.Errorf("got %v %v, want %v %v", ok, earliest, tc.allowed, tc.earliest)
			}
			// Consistency with the deadlines for the planned opening.
			noticeBy, sampleBy := election.NoticeDeadlines(era25, tc.opening)
			inTime := !tc.notice.IsZero() && !tc.sample.IsZero() && tc.notice.Before(noticeBy) && tc.sample.Before(sampleBy)
			if inTime != tc.allowed {
				t.Errorf("deadlines %v %v disagree", noticeBy, sampleBy)
			}
		})
	}
	noticeBy, sampleBy := election.NoticeDeadlines(era25, londonTime(t, "2026-04-01 09:00"))
	if !noticeBy.Equal(utcTime(t, "2026-03-26T00:00:00Z")) || !sampleBy.Equal(utcTime(t, "2026-03-29T23:00:00Z")) {
		t.Errorf("deadlines across the change to BST: %v %v", noticeBy, sampleBy)
	}
}

func TestCheckNoticeTiming(t *testing.T) {
	era25, err := election.RegimeByID("era25")
	must(t, err)
	opening := londonTime(t, "2026-12-14 09:00")
	employers := []string{"Demo Transport Ltd", "Gwent Buses Ltd"}
	sent := []election.NoticeSent{
		{Employer: "Demo Transport Ltd", Notice: londonTime(t, "2026-12-01 10:00"), Sample: londonTime(t, "2026-12-01 10:00")},
		{Employer: "gwent  buses LTD", Notice: londonTime(t, "2026-12-02 10:00")},
	}
	nt := election.CheckNoticeTiming(era25, opening, employers, sent)
	if nt.Allowed || len(nt.Problems) != 1 || !strings.Contains(nt.Problems[0], "Gwent Buses Ltd: no sample voting paper") || !nt.Earliest.IsZero() {
		t.Errorf("missing sample: %+v", nt)
	}
	sent = append(sent, election.NoticeSent{Employer: "Gwent Buses Ltd", Sample: londonTime(t, "2026-12-12 10:00")})
	nt = election.CheckNoticeTiming(era25, opening, employers, sent)
	if nt.Allowed || !nt.Earliest.Equal(londonTime(t, "2026-12-15 00:00")) {
		t.Errorf("late sample: %+v", nt)
	}
	nt = election.CheckNoticeTiming(era25, londonTime(t, "2026-12-15 00:00"), employers, sent)
	if !nt.Allowed || len(nt.Problems) != 0 {
		t.Errorf("in time: %+v", nt)
	}
	if nt := election.CheckNoticeTiming(era25, opening, nil, sent); nt.Allowed {
		t.Error("no employers allowed")
	}
}
