package stv

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
)

// ParseBLT reads a ballot file in the BLT format of Hill, Wichmann and
// Woodall (used by OpenSTV, Droop and eSTV): "candidates seats", optional
// "-c" withdrawn lines and Droop's "[withdrawn …]" / "[tie …]" option
// lines (the tie order becomes [Election.Lot]), then "weight c1 c2 … 0"
// lines (1-based candidates), "0", the candidates' names and the title.
// Equal rankings ("a=b") are refused: the counts take strict rankings
// only. It returns the election and the title; [Count] validates the
// election. The reference counts in crypto/testdata/stv are BLT files.
func ParseBLT(data []byte) (*Election, string, error) {
	var toks []string
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var options [][]string
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.Index(line, "#"); i >= 0 && !strings.Contains(line, "\"") {
			line = strings.TrimSpace(line[:i])
		}
		if strings.HasPrefix(line, "[") {
			options = append(options, strings.Fields(strings.Trim(line, "[]")))
			continue
		}
		if strings.HasPrefix(line, "\"") {
			toks = append(toks, line)
			continue
		}
		toks = append(toks, strings.Fields(line)...)
	}
	pos := 0
	nextInt := func() (int, error) {
		if pos >= len(toks) {
			return 0, fmt.Errorf("blt: unexpected end")
		}
		if strings.Contains(toks[pos], "=") {
			return 0, fmt.Errorf("blt: equal rankings are not supported")
		}
		v, err := strconv.Atoi(toks[pos])
		pos++
		return v, err
	}
	nc, err := nextInt()
	if err != nil {
		return nil, "", err
	}
	seats, err := nextInt()
	if err != nil {
		return nil, "", err
	}
	e := &Election{Candidates: nc, Seats: seats}
	for pos < len(toks) && strings.HasPrefix(toks[pos], "-") {
		v, _ := strconv.Atoi(toks[pos])
		e.Withdrawn = append(e.Withdrawn, -v-1)
		pos++
	}
	for {
		w, err := nextInt()
		if err != nil {
			return nil, "", err
		}
		if w == 0 {
			break
		}
		var prefs []int
		for {
			c, err := nextInt()
			if err != nil {
				return nil, "", err
			}
			if c == 0 {
				break
			}
			prefs = append(prefs, c-1)
		}
		e.Ballots = append(e.Ballots, Ballot{Weight: w, Prefs: prefs})
	}
	for i := 0; i < nc; i++ {
		if pos >= len(toks) {
			return nil, "", fmt.Errorf("blt: missing names")
		}
		e.Names = append(e.Names, strings.Trim(toks[pos], "\""))
		pos++
	}
	title := ""
	if pos < len(toks) {
		title = strings.Trim(toks[pos], "\"")
	}
	for _, o := range options {
		if len(o) == 0 {
			continue
		}
		switch o[0] {
		case "withdrawn":
			for _, t := range o[1:] {
				v, err := strconv.Atoi(t)
				if err != nil {
					return nil, "", err
				}
				e.Withdrawn = append(e.Withdrawn, v-1)
			}
		case "tie":
			for _, t := range o[1:] {
				v, err := strconv.Atoi(t)
				if err != nil {
					return nil, "", err
				}
				e.Lot = append(e.Lot, v-1)
			}
		}
	}
	return e, title, nil
}
