package page

import (
	"bytes"
	"encoding/json"
)

// FileKind names, for people, which of the service's and the scrutineer
// tool's files b looks like: a catalogue key "file.kind.…" ("file.kind.
// unknown" when none). A page that refuses an upload says which file it
// expected and which it received (a wrong file once got `json: unknown
// field "version"`). It is a guess from the file's shape, never a check:
// the file's own parser decides whether it is valid.
func FileKind(b []byte) string {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		return "file.kind.empty"
	case bytes.HasPrefix(b, []byte("age-encryption.org/")) || bytes.HasPrefix(b, []byte("-----BEGIN AGE ENCRYPTED FILE-----")):
		return "file.kind.age"
	case bytes.HasPrefix(b, []byte("AGE-SECRET-KEY-")) || bytes.HasPrefix(b, []byte("age1")):
		return "file.kind.age_key"
	case bytes.HasPrefix(b, []byte("\u2014 ")): // a signed note's signature line
		return "file.kind.signature"
	case b[0] != '{':
		if bytes.ContainsRune(firstLine(b), ',') {
			return "file.kind.csv"
		}
		return "file.kind.unknown"
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(firstLine(b), &top); err != nil {
		if err := json.Unmarshal(b, &top); err != nil {
			return "file.kind.unknown"
		}
	}
	for _, k := range jsonKinds {
		if _, ok := top[k.keys[0]]; !ok {
			continue
		}
		if _, ok := top[k.keys[1]]; ok || k.keys[1] == "" {
			return k.kind
		}
	}
	return "file.kind.unknown_json"
}

// jsonKinds are the JSON files by the top-level keys that tell them
// apart (both present; "" for none), first match wins.
var jsonKinds = []struct {
	keys [2]string
	kind string
}{
	{[2]string{"type", "format"}, "file.kind.export"},
	{[2]string{"election_key", "public_keys"}, "file.kind.trustees"},
	{[2]string{"trustee", "decryptions"}, "file.kind.partial"},
	{[2]string{"document", "statements"}, "file.kind.report"},
	{[2]string{"result", "verification"}, "file.kind.result"},
	{[2]string{"commitments", "dealer"}, "file.kind.dealing"},
	{[2]string{"dealer", "recipient"}, "file.kind.share"},
	{[2]string{"ceremony", "trustees"}, "file.kind.plan"},
	{[2]string{"styles", "trustees"}, "file.kind.manifest"},
	{[2]string{"short_code", ""}, "file.kind.receipt"},
}

// firstLine is b up to its first newline (a JSON Lines file's header).
func firstLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i]
	}
	return b
}

// WrongFile is the message refusing an upload that is another of the
// tool's files: "this is not <expected> (a "file.kind.…" key): it looks
// like <what got is>". It is false when got looks like the expected file,
// or like none of them (then the file's parser's error, which names the
// file expected, is the message).
func WrongFile(expected string, got []byte) (Msg, bool) {
	kind := FileKind(got)
	switch kind {
	case expected, "file.kind.empty", "file.kind.unknown", "file.kind.unknown_json":
		return Msg{}, false
	}
	return M("file.wrong", M(expected), M(kind)), true
}
