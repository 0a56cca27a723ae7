package election

import (
	"testing"

	"github.com/unionvote/eballot/crypto/manifest"
)

// The manifest frozen at the opening carries every yes/no question of a
// ballot without a ranked contest as compact (protocol 7, ballot version
// 3); other questions, and every question of a ballot with a ranked
// contest, are as before.
func TestCompactYesNo(t *testing.T) {
	yn := func(id string, min int) manifest.Question {
		return manifest.Question{ID: id, Min: min, Max: 1, Options: []manifest.Option{{ID: "yes"}, {ID: "no"}}}
	}
	three := manifest.Question{ID: "pick", Min: 0, Max: 1, Options: []manifest.Option{{ID: "a"}, {ID: "b"}, {ID: "c"}}}
	two := manifest.Question{ID: "both", Min: 0, Max: 2, Options: []manifest.Option{{ID: "a"}, {ID: "b"}}}

	m := manifest.Manifest{Version: manifest.Version, Questions: []manifest.Question{yn("strike", 0), yn("asos", 1), three, two}}
	compactYesNo(&m)
	if m.Version != manifest.Version2 {
		t.Fatalf("version %d", m.Version)
	}
	for i, want := range []string{manifest.MethodCompact, manifest.MethodCompact, "", ""} {
		if m.Questions[i].Method != want {
			t.Errorf("question %s: method %q, want %q", m.Questions[i].ID, m.Questions[i].Method, want)
		}
	}

	m = manifest.Manifest{Version: manifest.Version, Questions: []manifest.Question{three}}
	compactYesNo(&m)
	if m.Version != manifest.Version || m.Questions[0].Method != "" {
		t.Fatalf("no yes/no question: %+v", m)
	}

	// A style of 2^24 members or more keeps two selections: its compact
	// sum would not decode (protocol §4.2 version 3).
	for _, entitled := range []int64{manifest.CompactBase - 1, manifest.CompactBase} {
		m = manifest.Manifest{Version: manifest.Version, Questions: []manifest.Question{yn("strike", 0)},
			Styles: []manifest.Style{{ID: "a", Entitled: 10}, {ID: "b", Entitled: entitled}}}
		compactYesNo(&m)
		if got, want := m.Questions[0].Compact(), entitled < manifest.CompactBase; got != want {
			t.Fatalf("style of %d entitled: compact %v, want %v", entitled, got, want)
		}
	}

	ranked := manifest.Question{ID: "exec", Min: 1, Max: 3, Method: manifest.MethodRanked, Options: three.Options}
	m = manifest.Manifest{Version: manifest.Version2, Questions: []manifest.Question{yn("chair", 0), ranked}}
	compactYesNo(&m)
	if m.Questions[0].Method != "" {
		t.Fatal("a yes/no question next to a ranked contest was made compact")
	}
}
