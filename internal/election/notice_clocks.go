package election

// The s.226A clocks: the notice of an industrial action ballot is given to
// every employer the union reasonably believes employs members entitled to
// vote not later than the seventh day before the opening day, and a sample
// voting paper not later than the third day before it (the days in
// [Regime]). The opening check applies them to each employer's record
// (employer_notices.go); the printable notices are internal/result's.

import (
	"fmt"
	"strings"
	"time"
)

// EarliestOpening is the earliest opening time that the notice and the
// sample voting paper sent at notice and sample allow under regime r: the
// start (midnight, Europe/London) of the later of the r.NoticeDays-th day
// after the notice's day and the r.SamplePaperDays-th day after the
// sample's ("not later than the seventh [third] day before the opening
// day", s.226A(1)). Days are calendar days in Europe/London, whatever the
// clocks do. It is the zero time if either was not sent (zero).
func EarliestOpening(r Regime, notice, sample time.Time) time.Time {
	if notice.IsZero() || sample.IsZero() {
		return time.Time{}
	}
	n, sp := earliestOpening(notice, r.NoticeDays), earliestOpening(sample, r.SamplePaperDays)
	if sp.After(n) {
		return sp
	}
	return n
}

// earliestOpening is the start of the first day (Europe/London) that is at
// least days full days after the day sent: "not later than the seventh day
// before the opening day" (s.226A(1)(a)). Open checks each clock with it.
func earliestOpening(sent time.Time, days int) time.Time {
	return noticeDayStart(noticeDay(sent) + int64(days))
}

// NoticeDeadlines gives, for a ballot opening at opening under regime r,
// the instants before which the notice and the sample voting paper must
// be sent: the ends (exclusive) of the last days allowed.
func NoticeDeadlines(r Regime, opening time.Time) (noticeBy, sampleBy time.Time) {
	od := noticeDay(opening)
	return noticeDayStart(od - int64(r.NoticeDays) + 1), noticeDayStart(od - int64(r.SamplePaperDays) + 1)
}

// OpeningAllowed says whether a ballot may open at opening under regime r
// given when one employer was sent the notice and the sample voting
// paper, and the earliest opening allowed (zero if one was not sent).
func OpeningAllowed(r Regime, opening, notice, sample time.Time) (bool, time.Time) {
	e := EarliestOpening(r, notice, sample)
	return !e.IsZero() && !opening.Before(e), e
}

// noticeDay numbers the Europe/London calendar day of t.
func noticeDay(t time.Time) int64 {
	y, m, d := t.In(london).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

// noticeDayStart is midnight in Europe/London starting day (UK clocks
// change at 01:00 or 02:00, so midnight always exists).
func noticeDayStart(day int64) time.Time {
	u := time.Unix(day*86400, 0).UTC()
	return time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, london)
}

// NoticeSent records when an employer was sent the notice and the sample
// voting paper (zero: not sent).
type NoticeSent struct {
	Employer string
	Notice   time.Time
	Sample   time.Time
}

// NoticeTiming is the s.226A check of a planned opening against the
// notices sent.
type NoticeTiming struct {
	Allowed bool
	// Earliest is the earliest opening the notices sent allow; zero when an
	// employer's notice or sample paper is missing.
	Earliest time.Time
	// NoticeBy and SampleBy: send before these instants to open at the
	// planned time.
	NoticeBy, SampleBy time.Time
	// Problems says in English why opening is not allowed (employer names
	// may appear; never members).
	Problems []string
}

// CheckNoticeTiming checks under regime r that every employer (as listed by
// [EmployerNotices]) was sent its notice and sample voting paper in time
// for the ballot to open at opening. Employers are matched ignoring case
// and repeated spaces; the latest record for an employer counts.
func CheckNoticeTiming(r Regime, opening time.Time, employers []string, sent []NoticeSent) NoticeTiming {
	nt := NoticeTiming{}
	nt.NoticeBy, nt.SampleBy = NoticeDeadlines(r, opening)
	if len(employers) == 0 {
		nt.Problems = append(nt.Problems, "no employers: import the register first")
		return nt
	}
	key := func(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }
	by := map[string]NoticeSent{}
	for _, s := range sent {
		k := key(s.Employer)
		prev := by[k]
		if s.Notice.After(prev.Notice) {
			prev.Notice = s.Notice
		}
		if s.Sample.After(prev.Sample) {
			prev.Sample = s.Sample
		}
		by[k] = prev
	}
	var earliest time.Time
	missing := false
	for _, emp := range employers {
		name := emp
		if name == "" {
			name = "(employer not recorded)"
		}
		s := by[key(emp)]
		if s.Notice.IsZero() {
			nt.Problems = append(nt.Problems, fmt.Sprintf("%s: no notice of the ballot sent (s.226A)", name))
			missing = true
		}
		if s.Sample.IsZero() {
			nt.Problems = append(nt.Problems, fmt.Sprintf("%s: no sample voting paper sent (s.226A)", name))
			missing = true
		}
		if e := EarliestOpening(r, s.Notice, s.Sample); e.After(earliest) {
			earliest = e
		}
	}
	if missing {
		return nt
	}
	nt.Earliest = earliest
	if opening.Before(earliest) {
		nt.Problems = append(nt.Problems, fmt.Sprintf("the notices allow opening from %s (Europe/London) at the earliest",
			earliest.Format("Monday 2 January 2006 15:04 MST")))
		return nt
	}
	nt.Allowed = true
	return nt
}
