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
	has := func(keys ...string) bool {
		for _, k := range keys {
			if _, ok := top[k]; !ok {
				return false
			}
		}
		return true
	}
	switch {
	case has("type", "format"):
		return "file.kind.export"
	case has("election_key", "public_keys"):
		return "file.kind.trustees"
	case has("trustee", "decryptions"):
		return "file.kind.partial"
	case has("document", "statements"):
		return "file.kind.report"
	case has("result", "verification"):
		return "file.kind.result"
	case has("commitments", "dealer"):
		return "file.kind.dealing"
	case has("dealer", "recipient"):
		return "file.kind.share"
	case has("ceremony", "trustees"):
		return "file.kind.plan"
	case has("styles", "trustees"):
		return "file.kind.manifest"
	case has("short_code"):
		return "file.kind.receipt"
	}
	return "file.kind.unknown_json"
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
