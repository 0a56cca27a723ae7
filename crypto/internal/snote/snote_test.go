package snote

import (
	"crypto/rand"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

func keys(t testing.TB, name string) (note.Signer, note.Verifier, string) {
	sk, vk, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := note.NewSigner(sk)
	v, err := ParseVerifierKey(vk)
	if err != nil {
		t.Fatal(err)
	}
	return s, v, vk
}

// TestOpen: one accepted form of a signed note (docs/protocol.md §6.1).
func TestOpen(t *testing.T) {
	s, v, _ := keys(t, "ledger.example")
	w, _, _ := keys(t, "witness.example")
	other, _, _ := keys(t, "ledger.example")
	const text = "eballot/x\n3\nAAAA\n"
	sign := func(sg note.Signer) string {
		b, _ := note.Sign(&note.Note{Text: text}, sg)
		return string(b)
	}
	good := sign(s)
	sigLine := good[len(text)+1:]
	wit := sign(w)[len(text)+1:]
	bad := strings.Replace(sigLine, sigLine[len(sigLine)-10:len(sigLine)-5], "AAAAA", 1)
	nonCanon := func(line string) string {
		i := strings.IndexByte(line, '=')
		const a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
		return line[:i-1] + string(a[strings.IndexByte(a, line[i-1])|1]) + line[i:]
	}
	for _, c := range []struct {
		name, msg string
		ok        bool
	}{
		{"valid", good, true},
		{"with a witness", good + wit, true},
		{"witness first", text + "\n" + wit + sigLine, true},
		{"signed by another key of the same name", sign(other), false},
		{"only a witness", text + "\n" + wit, false},
		{"twice", good + sigLine, false},
		{"a bad signature after a good one", good + bad, false},
		{"a bad signature before a good one", text + "\n" + bad + sigLine, false},
		{"non-canonical base64", text + "\n" + nonCanon(sigLine), false},
		{"non-canonical base64 of a witness", good + nonCanon(wit), false},
		{"a control character", strings.Replace(good, "3", "\x01", 1), false},
		{"not UTF-8", strings.Replace(good, "3", "\xff", 1), false},
		{"no blank line", text + sigLine, false},
		{"no final newline", strings.TrimSuffix(good, "\n"), false},
		{"a line without the dash", good + "x y\n", false},
		{"a name with a plus", good + "— a+b " + strings.Fields(wit)[2] + "\n", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := Open([]byte(c.msg), v)
			if c.ok != (err == nil) || c.ok && got != text {
				t.Fatalf("Open = %q, %v; want ok %v", got, err, c.ok)
			}
		})
	}
}

// TestParseVerifierKey: lowercase hash, canonical base64.
func TestParseVerifierKey(t *testing.T) {
	// A key whose hash has a letter: upper case must then differ (a hash
	// of eight digits, about 2% of keys, would make the case a no-op).
	var vk string
	var parts []string
	for parts == nil || strings.ToUpper(parts[1]) == parts[1] {
		_, _, vk = keys(t, "ledger.example")
		parts = strings.SplitN(vk, "+", 3)
	}
	for _, c := range []struct {
		name, key string
		ok        bool
	}{
		{"valid", vk, true},
		{"uppercase hash", parts[0] + "+" + strings.ToUpper(parts[1]) + "+" + parts[2], false},
		{"base64 with a newline", parts[0] + "+" + parts[1] + "+" + parts[2][:10] + "\n" + parts[2][10:], false},
		{"no name", "+" + parts[1] + "+" + parts[2], false},
		{"short", parts[0] + "+" + parts[1], false},
		{"other hash", parts[0] + "+00000000+" + parts[2], false},
	} {
		if _, err := ParseVerifierKey(c.key); c.ok != (err == nil) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// corpusNotes are the signed notes and keys of the tamper corpus (seeds).
func corpusNotes(t testing.TB) (notes, vkeys []string) {
	b, err := os.ReadFile("../../testdata/tamper_v2.json")
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Bases map[string]struct {
			Export, Report, Signature, Key string
		} `json:"bases"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	for _, base := range c.Bases {
		for _, l := range strings.Split(base.Export, "\n") {
			var m struct{ Note, LogKey string }
			var raw map[string]any
			if json.Unmarshal([]byte(l), &raw) == nil {
				if n, ok := raw["note"].(string); ok {
					m.Note = n
				}
				if k, ok := raw["log_key"].(string); ok {
					vkeys = append(vkeys, k)
				}
			}
			if m.Note != "" {
				notes = append(notes, m.Note)
			}
		}
		if base.Report != "" {
			notes = append(notes, base.Report+base.Signature)
		}
		if base.Key != "" {
			vkeys = append(vkeys, base.Key)
		}
	}
	return notes, vkeys
}

// FuzzOpen: Open never panics, and accepts only notes note.Open accepts
// with the same text.
func FuzzOpen(f *testing.F) {
	notes, vkeys := corpusNotes(f)
	for i, n := range notes {
		f.Add([]byte(n), vkeys[i%len(vkeys)])
	}
	f.Fuzz(func(t *testing.T, msg []byte, vkey string) {
		v, err := ParseVerifierKey(vkey)
		if err != nil {
			return
		}
		text, err := Open(msg, v)
		if err != nil {
			return
		}
		n, err := note.Open(msg, note.VerifierList(v))
		if err != nil || n.Text != text {
			t.Fatalf("Open accepted what note.Open refuses (%v)", err)
		}
	})
}

// FuzzParseVerifierKey: never panics; an accepted key is what
// note.NewVerifier accepts, with the same name and hash.
func FuzzParseVerifierKey(f *testing.F) {
	_, vkeys := corpusNotes(f)
	for _, k := range vkeys {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, k string) {
		v, err := ParseVerifierKey(k)
		if err != nil {
			return
		}
		w, err := note.NewVerifier(k)
		if err != nil || w.Name() != v.Name() || w.KeyHash() != v.KeyHash() {
			t.Fatalf("accepted a key note.NewVerifier refuses: %v", err)
		}
	})
}
