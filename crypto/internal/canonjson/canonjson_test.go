package canonjson

import (
	"encoding/json"
	"errors"
	"testing"
)

type doc struct {
	A int      `json:"a"`
	B string   `json:"b,omitempty"`
	C []string `json:"c"`
}

// TestDecode: one accepted form per value.
func TestDecode(t *testing.T) {
	for _, c := range []struct {
		in string
		ok bool
	}{
		{`{"a":1,"c":["x"]}`, true},
		{` { "c" : null , "a" : 1 } `, true},
		{`{"a":1,"b":"y","c":[]}`, true},
		{`{"a":1}`, false},                       // c missing
		{`{"a":1,"b":"","c":[]}`, false},         // omitted when empty, given empty
		{`{"A":1,"c":[]}`, false},                // another case
		{`{"a":1,"a":1,"c":[]}`, false},          // duplicate
		{`{"a":1.0,"c":[]}`, false},              // not an integer
		{`{"a":1,"c":[],"d":2}`, false},          // unknown
		{`{"a":1,"c":[]} {}`, false},             // trailing data
		{`{"a":9007199254740992,"c":[]}`, false}, // ≥ 2^53
	} {
		var d doc
		err := Decode([]byte(c.in), &d)
		if c.ok != (err == nil) {
			t.Errorf("%s: %v", c.in, err)
		}
	}
	var d doc
	if err := Decode([]byte(`{"A":1,"c":[]}`), &d); !errors.Is(err, ErrForm) {
		t.Fatalf("another case: %v", err)
	}
}

// FuzzDecode: never panics; an accepted document re-encodes to a document
// accepted with the same value.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"a":1,"c":["x"]}`, `{"a":1,"b":"y","c":null}`, `{"A":1,"c":[]}`, `{"a":1,"a":2,"c":[]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var d doc
		if Decode(b, &d) != nil {
			return
		}
		re, _ := json.Marshal(d)
		var e doc
		if err := Decode(re, &e); err != nil || e.A != d.A || e.B != d.B || len(e.C) != len(d.C) {
			t.Fatalf("re-encoded %s: %v", re, err)
		}
	})
}
