// Command genvectors rewrites every eBallot test vector in crypto/testdata
// (canonical_json_v1.json, manifest_v1.json, manifest_v2.json, ballot_v1.json, dkg_v1.json,
// blind_v1.json, receipt_v1.json, shuffle_v1.json, ranked_v1.json, ranked_tamper_v1.json
// (edits of the committed folder ranked_count_v1/), paper_v1.json, stv_v1.json,
// address_v1.json; crypto/testdata/README.md describes each).
// Run from the repository root:
//
//	go run ./crypto/internal/genvectors
//
// The output is byte-for-byte reproducible. The canonical JSON, manifest and
// ballot vectors draw every random value from a SHA-256 counter-mode stream
// of a fixed seed string (crypto/internal/drbg); the threshold, blind and
// receipt vectors from SHAKE-256("eballot-vectors/" ‖ name) streams, except
// the RSA issuer key of blind_v1.json: crypto/rsa key generation is not
// reproducible from a reader, so that key was generated once and is read
// back from the existing blind_v1.json on every run (delete the file to make
// a new key). Regenerating vectors is a wire-format change: say why in the
// commit.
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/unionvote/eballot/crypto/ballot"
	"github.com/unionvote/eballot/crypto/elgamal"
	"github.com/unionvote/eballot/crypto/internal/drbg"
	"github.com/unionvote/eballot/crypto/manifest"
)

func main() {
	out := flag.String("out", "crypto/testdata", "output directory")
	flag.Parse()
	must(write(*out, "canonical_json_v1.json", canonicalVectors()))
	m, sk := testManifest()
	must(write(*out, "manifest_v1.json", manifestVectors(m, sk)))
	must(write(*out, "manifest_v2.json", manifest2Vectors(m)))
	must(write(*out, "ballot_v1.json", ballotVectors(m, sk)))
	must(write(*out, "ballot_v3.json", compactVectors(m, sk)))
	must(write(*out, "dkg_v1.json", genDKG()))
	must(write(*out, "blind_v1.json", genBlind(filepath.Join(*out, "blind_v1.json"))))
	must(write(*out, "receipt_v1.json", genReceipt()))
	must(write(*out, "shuffle_v1.json", genShuffle()))
	must(write(*out, "ranked_v1.json", genRanked()))
	must(write(*out, "ranked_tamper_v1.json", genRankedTamper(*out)))
	must(write(*out, "paper_v1.json", genPaper(m)))
	must(write(*out, "address_v1.json", genAddress()))
	genSTV(*out)
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func write(dir, name string, v any) error {
	var buf bytes.Buffer
	e := json.NewEncoder(&buf)
	e.SetEscapeHTML(false)
	e.SetIndent("", "  ")
	if err := e.Encode(v); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Println("wrote", filepath.Join(dir, name))
	return nil
}

// ---- canonical JSON ----

type canonValid struct {
	Name      string `json:"name"`
	InputHex  string `json:"input_hex"`
	Input     string `json:"input"`
	Canonical string `json:"canonical"`
	CanonHex  string `json:"canonical_hex"`
}

type canonInvalid struct {
	Name     string `json:"name"`
	InputHex string `json:"input_hex"`
	Stage    string `json:"stage"`
	Reason   string `json:"reason"`
}

type canonFile struct {
	Description string         `json:"description"`
	Valid       []canonValid   `json:"valid"`
	Invalid     []canonInvalid `json:"invalid"`
}

func canonicalVectors() canonFile {
	f := canonFile{Description: "docs/protocol.md §3 canonical JSON. valid: input_hex (UTF-8 JSON text; input is the same text as a string) canonicalizes to canonical (canonical_hex = its UTF-8 bytes). invalid: input_hex MUST be rejected. stage \"text\": only a strict parser of the JSON text can see it (JSON.parse accepts it); stage \"value\": the parsed value is not representable (JSON.parse rejects it or canonicalJSON of the value must throw)."}
	valid := []struct{ name, in string }{
		{"empty object", `{}`},
		{"empty array", `[]`},
		{"literals", `[true,false,null]`},
		{"key order", `{"b":1,"a":2,"c":{"z":[],"y":{}}}`},
		{"whitespace", " {\n\t\"a\" : [ 1 , 2 ] ,\r\n \"b\" : \"x\" } "},
		{"integers", `[0,-0,1,-1,9007199254740991,-9007199254740991,123456789]`},
		{"short escapes", `"\" \\ \/ \b \f \n \r \t"`},
		{"control characters", `"\u0000\u0001\u001f\u000B\u007f"`},
		{"unicode escapes to literal", `"\u00e9\u20ac\u2028\u2029\ud83d\ude00"`},
		{"literal unicode", "\"é€😀\u2028日本\""},
		{"uppercase hex escape", `"\u00C9"`},
		{"keys sorted by UTF-16 code units", "{\"\uff61\":1,\"\U0001F600\":2,\"a\":3,\"B\":4,\"\":5}"},
		{"nested", `{"questions":[{"id":"q1","options":[{"label":"Yes","id":"yes"},{"label":"No","id":"no"}],"min":1,"max":1}],"version":1}`},
		{"html characters stay literal", `"<a href='x'>&amp;</a>"`},
	}
	for _, v := range valid {
		c, err := manifest.Canonicalize([]byte(v.in))
		must(err)
		f.Valid = append(f.Valid, canonValid{v.name, hex.EncodeToString([]byte(v.in)), v.in, string(c), hex.EncodeToString(c)})
	}
	invalid := []struct{ name, in, stage, reason string }{
		{"fraction", `1.5`, "value", "not an integer"},
		{"integral fraction", `1.0`, "text", "fractions are not allowed even if integral"},
		{"exponent", `1e2`, "text", "exponents are not allowed"},
		{"too large", `9007199254740992`, "value", "|n| ≥ 2^53"},
		{"too small", `-9007199254740992`, "value", "|n| ≥ 2^53"},
		{"leading zero", `01`, "value", "invalid JSON number"},
		{"duplicate key", `{"a":1,"a":2}`, "text", "duplicate object key"},
		{"invalid UTF-8", "\"\xff\"", "value", "invalid UTF-8"},
		{"overlong UTF-8", "\"\xc0\xaf\"", "value", "invalid UTF-8"},
		{"encoded surrogate UTF-8", "\"\xed\xa0\x80\"", "value", "invalid UTF-8 (surrogate)"},
		{"lone high surrogate escape", `"\ud800"`, "value", "lone surrogate is not valid UTF-8"},
		{"lone low surrogate escape", `"\udc00x"`, "value", "lone surrogate is not valid UTF-8"},
		{"raw control character", "\"a\nb\"", "value", "unescaped control character"},
		{"trailing data", `{} {}`, "value", "trailing data"},
		{"trailing comma", `[1,]`, "value", "invalid JSON"},
		{"single quotes", `{'a':1}`, "value", "invalid JSON"},
		{"NaN", `NaN`, "value", "invalid JSON"},
		{"empty", ``, "value", "no value"},
		{"bad escape", `"\x"`, "value", "invalid escape"},
	}
	for _, v := range invalid {
		if _, err := manifest.Canonicalize([]byte(v.in)); err == nil {
			log.Fatalf("canonical: %s accepted", v.name)
		}
		f.Invalid = append(f.Invalid, canonInvalid{v.name, hex.EncodeToString([]byte(v.in)), v.stage, v.reason})
	}
	return f
}

// ---- manifest ----

func point(seed string) string {
	sk, err := elgamal.GenerateKey(drbg.New(seed))
	must(err)
	return hex.EncodeToString(sk.PublicKey().Bytes())
}

func logKey() string {
	seed := sha256.Sum256([]byte("eballot-v1 test vectors / log key"))
	pub := ed25519.NewKeyFromSeed(seed[:]).Public().(ed25519.PublicKey)
	name := "vote.example/log"
	key := append([]byte{1}, pub...)
	h := sha256.Sum256(append([]byte(name+"\n"), key...))
	return name + "+" + hex.EncodeToString(h[:4]) + "+" + base64.StdEncoding.EncodeToString(key)
}

func testManifest() (*manifest.Manifest, *elgamal.SecretKey) {
	sk, err := elgamal.GenerateKey(drbg.New("eballot-v1 test vectors / election key"))
	must(err)
	m := &manifest.Manifest{
		Version:    1,
		ElectionID: "unite-2026-pay-ballot",
		Kind:       "industrial_action",
		Title:      "Ballot for industrial action — pay 2026",
		OpensAt:    "2026-12-01T09:00:00Z",
		ClosesAt:   "2026-12-15T17:00:00Z",
		Texts: map[string]string{
			"s229_warning":   "If you take part in a strike or other industrial action, you may be in breach of your contract of employment.",
			"s229_dismissal": "However, if you are dismissed for taking part in a strike or other industrial action which is called officially and is otherwise lawful, the dismissal will be unfair if it takes place fewer than twelve weeks after you started taking part in the action, and depending on the circumstances may be unfair if it takes place later.",
			"s229_summary":   "Trade dispute: pay award 2026 (\"cost of living\"). Action: discontinuous strike days and an overtime ban.",
			"s229_period":    "Industrial action is expected to take place between 2027-01-05 and 2027-06-30.",
		},
		Questions: []manifest.Question{
			{ID: "strike", Text: "Are you prepared to take part in strike action?", Min: 1, Max: 1,
				Options: []manifest.Option{{ID: "yes", Label: "Yes"}, {ID: "no", Label: "No"}}},
			{ID: "asos", Text: "Are you prepared to take part in industrial action short of a strike?", Min: 0, Max: 1,
				Options: []manifest.Option{{ID: "yes", Label: "Yes"}, {ID: "no", Label: "No"}}},
		},
		Styles: []manifest.Style{
			{ID: "north-depot", Name: "North Depot", IssuerKey: issuerKeyA, Entitled: 412},
			{ID: "south-depot", Name: "South Depot — Wārehouse «B»", IssuerKey: issuerKeyB, Entitled: 1287},
		},
		Trustees: manifest.Trustees{
			Threshold:   2,
			ElectionKey: hex.EncodeToString(sk.PublicKey().Bytes()),
			PublicKeys:  []string{point("eballot-v1 test vectors / trustee 1"), point("eballot-v1 test vectors / trustee 2"), point("eballot-v1 test vectors / trustee 3")},
		},
		LogKey: logKey(),
		Regime: &manifest.Regime{ID: "era25", Name: "TULRCA 1992 as amended by the Employment Rights Act 2025 (from 18 February 2026)",
			TurnoutThreshold: true, MandateMonths: 12, CodeOfPractice: "Industrial Action Ballots and Notice to Employers (2017)"},
	}
	must(m.Validate())
	return m, sk
}

type manifestInvalid struct {
	Name   string `json:"name"`
	JSON   string `json:"json"`
	Reason string `json:"reason"`
}

type manifestFile struct {
	Description       string                   `json:"description"`
	Manifest          json.RawMessage          `json:"manifest"`
	Canonical         string                   `json:"canonical"`
	Hash              string                   `json:"hash"`
	ElectionSecretKey string                   `json:"election_secret_key"`
	Shape             []manifest.QuestionShape `json:"shape"`
	BallotSize        int                      `json:"ballot_size"`
	Invalid           []manifestInvalid        `json:"invalid"`
	Bilingual         bilingualFile            `json:"bilingual"`
}

// bilingualFile: the test manifest with a Welsh translation (§3.1).
type bilingualFile struct {
	Description string            `json:"description"`
	Manifest    json.RawMessage   `json:"manifest"`
	Canonical   string            `json:"canonical"`
	Hash        string            `json:"hash"`
	Invalid     []manifestInvalid `json:"invalid"`
}

// welshManifest is m with a complete Welsh translation of its paper.
func welshManifest(m *manifest.Manifest) *manifest.Manifest {
	w := *m
	yn := []manifest.Option{{ID: "yes", Label: "Ydw"}, {ID: "no", Label: "Nac ydw"}}
	w.Translations = map[string]manifest.Translation{"cy": {
		Title: "Pleidlais dros weithredu diwydiannol — cyflog 2026",
		Texts: map[string]string{
			"s229_warning": "Os byddwch yn cymryd rhan mewn streic neu weithredu diwydiannol arall, efallai y byddwch yn torri eich contract cyflogaeth.",
			"s229_summary": "Anghydfod masnach: dyfarniad cyflog 2026 (\"costau byw\"). Gweithredu: diwrnodau streic ysbeidiol a gwaharddiad ar oramser.",
		},
		Questions: []manifest.TranslatedQuestion{
			{ID: "strike", Text: "Ydych chi'n barod i gymryd rhan mewn streic?", Options: yn},
			{ID: "asos", Text: "Ydych chi'n barod i gymryd rhan mewn gweithredu diwydiannol heblaw streic?", Options: yn},
		},
	}}
	must(w.Validate())
	return &w
}

func bilingualVectors(m *manifest.Manifest) bilingualFile {
	w := welshManifest(m)
	c, err := w.Canonical()
	must(err)
	h, err := w.Hash()
	must(err)
	f := bilingualFile{
		Description: "docs/protocol.md §3.1. manifest: the test manifest above with a Welsh translation (translations.cy); canonical and hash as above. invalid: translations that Parse MUST reject, with the reason.",
		Manifest:    c, Canonical: string(c), Hash: hex.EncodeToString(h[:]),
	}
	mut := func(name, reason string, fn func(cy map[string]any, o map[string]any)) {
		var o map[string]any
		must(json.Unmarshal(c, &o))
		fn(o["translations"].(map[string]any)["cy"].(map[string]any), o)
		b, err := json.Marshal(o)
		must(err)
		f.Invalid = append(f.Invalid, manifestInvalid{name, string(b), reason})
	}
	q := func(cy map[string]any, i int) map[string]any { return cy["questions"].([]any)[i].(map[string]any) }
	mut("empty translations", "translations is omitted when empty", func(_, o map[string]any) { o["translations"] = map[string]any{} })
	mut("unknown language", "only cy is defined", func(cy, o map[string]any) { o["translations"].(map[string]any)["fr"] = cy })
	mut("unknown field in translation", "unknown fields are rejected", func(cy, _ map[string]any) { cy["extra"] = "x" })
	mut("translation without texts", "every field is required", func(cy, _ map[string]any) { delete(cy, "texts") })
	mut("empty title", "title is 1–512 bytes", func(cy, _ map[string]any) { cy["title"] = "" })
	mut("text key not in texts", "a translated text translates one of texts", func(cy, _ map[string]any) {
		cy["texts"].(map[string]any)["s229_other"] = "x"
	})
	mut("question missing", "every question is translated", func(cy, _ map[string]any) { cy["questions"] = cy["questions"].([]any)[:1] })
	mut("questions out of order", "questions in the manifest's order", func(cy, _ map[string]any) {
		qs := cy["questions"].([]any)
		qs[0], qs[1] = qs[1], qs[0]
	})
	mut("option label missing", "every option is translated", func(cy, _ map[string]any) {
		q(cy, 0)["options"] = q(cy, 0)["options"].([]any)[:1]
	})
	mut("option id differs", "options with the question's ids", func(cy, _ map[string]any) {
		q(cy, 0)["options"].([]any)[0].(map[string]any)["id"] = "ie"
	})
	mut("empty question text", "question text is 1–65536 bytes", func(cy, _ map[string]any) { q(cy, 1)["text"] = "" })
	for _, iv := range f.Invalid {
		if _, err := manifest.Parse([]byte(iv.JSON)); err == nil {
			log.Fatalf("bilingual manifest %q accepted", iv.Name)
		}
	}
	if _, err := manifest.Parse(c); err != nil {
		log.Fatal(err)
	}
	return f
}

func manifestVectors(m *manifest.Manifest, sk *elgamal.SecretKey) manifestFile {
	c, err := m.Canonical()
	must(err)
	h, err := m.Hash()
	must(err)
	f := manifestFile{
		Description:       "docs/protocol.md §3. manifest: the test manifest (2 questions, 2 styles); canonical: canonical_json(manifest); hash: hex SHA-256 of canonical (manifest_hash). election_secret_key: hex scalar x with trustees.election_key = x·G — TEST ONLY, never assembled in an election; trustee keys, issuer keys and log key are fixed placeholders. shape: per question options/min/max; ballot_size: bytes of an encrypted ballot. invalid: manifest JSON texts that Parse MUST reject, with the reason.",
		Manifest:          c,
		Canonical:         string(c),
		Hash:              hex.EncodeToString(h[:]),
		ElectionSecretKey: hex.EncodeToString(sk.Bytes()),
		Shape:             m.Shape(),
		BallotSize:        m.BallotSize(),
	}
	mut := func(name, reason string, fn func(o map[string]any)) {
		var o map[string]any
		must(json.Unmarshal(c, &o))
		fn(o)
		b, err := json.Marshal(o)
		must(err)
		f.Invalid = append(f.Invalid, manifestInvalid{name, string(b), reason})
	}
	q0 := func(o map[string]any) map[string]any { return o["questions"].([]any)[0].(map[string]any) }
	tr := func(o map[string]any) map[string]any { return o["trustees"].(map[string]any) }
	mut("unknown field", "unknown fields are rejected", func(o map[string]any) { o["extra"] = 1 })
	mut("missing field", "every field is required", func(o map[string]any) { delete(o, "log_key") })
	mut("null field", "null is not a value of any field", func(o map[string]any) { o["texts"] = nil })
	mut("wrong version", "version must be 1 or 2", func(o map[string]any) { o["version"] = 3 })
	mut("bad election id", "election_id must match [a-z0-9-]{1,64}", func(o map[string]any) { o["election_id"] = "Unite_2026" })
	mut("bad kind", "unknown kind", func(o map[string]any) { o["kind"] = "strike" })
	rg := func(o map[string]any) map[string]any { return o["regime"].(map[string]any) }
	mut("no regime", "an industrial_action ballot states its legal regime", func(o map[string]any) { delete(o, "regime") })
	mut("null regime", "regime is absent, never null", func(o map[string]any) { o["regime"] = nil })
	mut("regime unknown field", "unknown fields are rejected", func(o map[string]any) { rg(o)["ips"] = true })
	mut("regime missing field", "every regime field is required", func(o map[string]any) { delete(rg(o), "support_threshold") })
	mut("regime threshold as text", "thresholds are booleans", func(o map[string]any) { rg(o)["turnout_threshold"] = "true" })
	mut("regime bad id", "regime.id must match [a-z0-9-]{1,64}", func(o map[string]any) { rg(o)["id"] = "ERA 2025" })
	mut("regime mandate out of range", "0 ≤ mandate_months ≤ 24", func(o map[string]any) { rg(o)["mandate_months"] = 25 })
	mut("regime empty code", "code_of_practice is 1–512 bytes", func(o map[string]any) { rg(o)["code_of_practice"] = "" })
	mut("bad time", "times are RFC 3339 UTC with seconds precision", func(o map[string]any) { o["opens_at"] = "2026-12-01T09:00:00.5Z" })
	mut("time offset", "times are UTC", func(o map[string]any) { o["opens_at"] = "2026-12-01T09:00:00+01:00" })
	mut("closes before opens", "closes_at must be after opens_at", func(o map[string]any) { o["closes_at"] = "2026-11-01T09:00:00Z" })
	mut("min above max", "0 ≤ min ≤ max", func(o map[string]any) { q0(o)["min"] = 2 })
	mut("max above options", "max ≤ len(options)", func(o map[string]any) { q0(o)["max"] = 3 })
	mut("one option", "2–64 options", func(o map[string]any) { q0(o)["options"] = q0(o)["options"].([]any)[:1] })
	mut("duplicate option id", "ids are unique", func(o map[string]any) {
		q0(o)["options"].([]any)[1].(map[string]any)["id"] = "yes"
	})
	mut("no questions", "1–32 questions", func(o map[string]any) { o["questions"] = []any{} })
	mut("no styles", "at least one style", func(o map[string]any) { o["styles"] = []any{} })
	mut("issuer key not base64", "issuer_key is base64 DER SPKI", func(o map[string]any) {
		o["styles"].([]any)[0].(map[string]any)["issuer_key"] = "not-base64!"
	})
	mut("issuer key not RSA", "issuer_key is an RSA-2048 key", func(o map[string]any) {
		der, err := x509.MarshalPKIXPublicKey(ed25519.NewKeyFromSeed(make([]byte, 32)).Public())
		must(err)
		o["styles"].([]any)[0].(map[string]any)["issuer_key"] = base64.StdEncoding.EncodeToString(der)
	})
	mut("issuer key url-safe base64", "issuer_key is standard base64", func(o map[string]any) {
		s := o["styles"].([]any)[0].(map[string]any)
		s["issuer_key"] = base64.URLEncoding.EncodeToString(mustB64(s["issuer_key"].(string))) + "!"
	})
	mut("negative entitled", "entitled ≥ 0", func(o map[string]any) { o["styles"].([]any)[0].(map[string]any)["entitled"] = -1 })
	mut("fractional entitled", "integers only", func(o map[string]any) { o["styles"].([]any)[0].(map[string]any)["entitled"] = 1.5 })
	mut("identity election key", "the identity is rejected", func(o map[string]any) { tr(o)["election_key"] = hex.EncodeToString(make([]byte, 32)) })
	mut("non-canonical election key", "non-canonical encodings are rejected", func(o map[string]any) {
		tr(o)["election_key"] = "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"
	})
	mut("uppercase hex key", "hex is lowercase", func(o map[string]any) {
		tr(o)["election_key"] = fmt.Sprintf("%X", mustHex(tr(o)["election_key"].(string)))
	})
	mut("threshold above n", "threshold ≤ len(public_keys)", func(o map[string]any) { tr(o)["threshold"] = 4 })
	mut("bad log key hash", "log_key hash must match", func(o map[string]any) {
		k := []byte(o["log_key"].(string))
		k[len("vote.example/log+")] ^= 1
		o["log_key"] = string(k)
	})
	mut("ballot too large", "the encrypted ballot must fit in 64 KiB", func(o map[string]any) {
		var opts []any
		for i := 0; i < 64; i++ {
			opts = append(opts, map[string]any{"id": fmt.Sprintf("o%d", i), "label": "x"})
		}
		var qs []any
		for i := 0; i < 4; i++ {
			qs = append(qs, map[string]any{"id": fmt.Sprintf("q%d", i), "text": "t", "options": opts, "min": 0, "max": 64})
		}
		o["questions"] = qs
	})
	f.Invalid = append(f.Invalid,
		manifestInvalid{"differently-cased key", strings_Replace(string(c), `"version":1`, `"Version":1`), "field names are exact (encoding/json would match case-insensitively)"},
		manifestInvalid{"duplicate key", strings_Replace(string(c), `"version":1`, `"version":1,"version":1`), "duplicate keys are rejected"},
		manifestInvalid{"trailing data", string(c) + "{}", "one JSON value only"},
	)
	for _, iv := range f.Invalid {
		if _, err := manifest.Parse([]byte(iv.JSON)); err == nil {
			log.Fatalf("manifest %q accepted", iv.Name)
		}
	}
	if _, err := manifest.Parse(c); err != nil {
		log.Fatal(err)
	}
	f.Bilingual = bilingualVectors(m)
	return f
}

func strings_Replace(s, old, new string) string {
	out := bytes.Replace([]byte(s), []byte(old), []byte(new), 1)
	if bytes.Equal(out, []byte(s)) {
		log.Fatalf("replace %q: not found", old)
	}
	return string(out)
}

func mustB64(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	must(err)
	return b
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	must(err)
	return b
}

// ---- ballots ----

type ballotValid struct {
	Name      string          `json:"name"`
	Seed      string          `json:"seed"`
	Style     int             `json:"style"`
	Choices   [][]int         `json:"choices"`
	Audit     *ballot.Audit   `json:"audit"`
	Binary    string          `json:"binary"`
	JSON      json.RawMessage `json:"json"`
	Tracker   string          `json:"tracker"`
	ShortCode string          `json:"short_code"`
	Hints     string          `json:"hints"`
}

type ballotInvalid struct {
	Name   string          `json:"name"`
	Format string          `json:"format"`
	Binary string          `json:"binary,omitempty"`
	JSON   json.RawMessage `json:"json,omitempty"`
	Error  string          `json:"error"`
	Reason string          `json:"reason"`
}

type tallyOption struct {
	Ciphertext string `json:"ciphertext"`
	Count      int    `json:"count"`
}

type ballotFile struct {
	Description  string            `json:"description"`
	ManifestHash string            `json:"manifest_hash"`
	ElectionKey  string            `json:"election_key"`
	Valid        []ballotValid     `json:"valid"`
	Invalid      []ballotInvalid   `json:"invalid"`
	Tally        [][][]tallyOption `json:"tally"`
}

// Error kinds of ballot_v1.json.
func errKind(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ballot.ErrWrongManifest):
		return "wrong_manifest"
	case errors.Is(err, ballot.ErrMalformed):
		return "malformed"
	case errors.Is(err, ballot.ErrBadProof):
		return "bad_proof"
	}
	return "other: " + err.Error()
}

func ballotVectors(m *manifest.Manifest, sk *elgamal.SecretKey) ballotFile {
	e, err := ballot.NewElection(m)
	must(err)
	h := e.ManifestHash()
	f := ballotFile{
		Description:  "docs/protocol.md §4. valid: ballots made with ballot.Encrypt from the DRBG seed (SHA-256(seed‖u64be(i)) blocks; 64 bytes reduced mod ℓ per scalar) — binary (hex of the canonical encoding §4.2) and json (JSON form) decode, verify and re-encode identically; tracker = hex T (§4.3), short_code its Crockford form; audit = the Benaloh opening (choices and hex nonces r per selection, §4.4) that CheckAudit accepts; hints = hex of the decompression hints of the binary (§4.5: 32 bytes per group element in the order of the encoding), with which it decodes to the same ballot. invalid: each MUST be rejected by decode+verify with error kind malformed | wrong_manifest | bad_proof; format says whether the hex binary or the json form is given (an empty binary is omitted). tally: per style, question, option the homomorphic sum (hex α‖β) of the valid ballots and its decrypted count. Manifest: manifest_v1.json.",
		ManifestHash: hex.EncodeToString(h[:]),
		ElectionKey:  m.Trustees.ElectionKey,
	}
	type made struct {
		b   *ballot.Ballot
		bin []byte
	}
	var ballots []made
	specs := []struct {
		name    string
		style   int
		choices [][]int
	}{
		{"north yes yes", 0, [][]int{{1, 0}, {1, 0}}},
		{"north no no", 0, [][]int{{0, 1}, {0, 1}}},
		{"north yes blank", 0, [][]int{{1, 0}, {0, 0}}},
		{"south no yes", 1, [][]int{{0, 1}, {1, 0}}},
		{"south yes yes", 1, [][]int{{1, 0}, {1, 0}}},
		{"south yes no", 1, [][]int{{1, 0}, {0, 1}}},
	}
	tally := make([][][]int, len(m.Styles))
	sums := make([][][]*elgamal.Ciphertext, len(m.Styles))
	for s := range tally {
		for _, q := range m.Questions {
			tally[s] = append(tally[s], make([]int, len(q.Options)))
			sums[s] = append(sums[s], make([]*elgamal.Ciphertext, len(q.Options)))
		}
	}
	for _, sp := range specs {
		seed := "eballot-v1 test vectors / ballot / " + sp.name
		b, a, err := e.Encrypt(drbg.New(seed), sp.style, sp.choices)
		must(err)
		bin, err := b.MarshalBinary()
		must(err)
		js, err := b.MarshalJSON()
		must(err)
		t, err := b.Tracker()
		must(err)
		must(e.Verify(b))
		must(e.CheckAudit(b, a))
		hints, err := e.Hints(bin)
		must(err)
		f.Valid = append(f.Valid, ballotValid{sp.name, seed, sp.style, sp.choices, a, hex.EncodeToString(bin), js, hex.EncodeToString(t[:]), ballot.ShortCode(t), hex.EncodeToString(hints)})
		ballots = append(ballots, made{b, bin})
		for qi, q := range b.Questions {
			for oi, s := range q.Selections {
				tally[sp.style][qi][oi] += sp.choices[qi][oi]
				if sums[sp.style][qi][oi] == nil {
					sums[sp.style][qi][oi] = s.Ciphertext
				} else {
					sums[sp.style][qi][oi] = elgamal.Add(sums[sp.style][qi][oi], s.Ciphertext)
				}
			}
		}
	}
	tab, err := elgamal.NewTable(1000)
	must(err)
	for s := range sums {
		var qs [][]tallyOption
		for qi := range sums[s] {
			var os []tallyOption
			for oi, c := range sums[s][qi] {
				n, err := tab.Solve(sk.Decrypt(c))
				must(err)
				if int(n) != tally[s][qi][oi] {
					log.Fatal("tally mismatch")
				}
				os = append(os, tallyOption{hex.EncodeToString(c.Bytes()), int(n)})
			}
			qs = append(qs, os)
		}
		f.Tally = append(f.Tally, qs)
	}

	base := ballots[0].bin
	sel := func(q, o int) int { // offset of selection (q, o)
		off := 37
		for qi := 0; qi < q; qi++ {
			s := m.Shape()[qi]
			off += 2 + s.Options*320 + (s.Max-s.Min+1)*128
		}
		return off + 2 + o*320
	}
	sumOff := func(q int) int {
		s := m.Shape()[q]
		return sel(q, 0) + s.Options*320
	}
	binInvalid := func(name, want, reason string, fn func(b []byte) []byte) {
		b := fn(append([]byte(nil), base...))
		_, err := decodeVerify(e, b)
		if got := errKind(err); got != want {
			log.Fatalf("invalid ballot %q: got %s (%v), want %s", name, got, err, want)
		}
		f.Invalid = append(f.Invalid, ballotInvalid{Name: name, Format: "binary", Binary: hex.EncodeToString(b), Error: want, Reason: reason})
	}
	flip := func(off int) func([]byte) []byte {
		return func(b []byte) []byte { b[off] ^= 1; return b }
	}
	binInvalid("trailing byte", "malformed", "trailing bytes", func(b []byte) []byte { return append(b, 0) })
	binInvalid("truncated", "malformed", "one byte short", func(b []byte) []byte { return b[:len(b)-1] })
	binInvalid("empty", "malformed", "no data", func(b []byte) []byte { return nil })
	binInvalid("version 2", "malformed", "version byte must be 1", func(b []byte) []byte { b[0] = 2; return b })
	binInvalid("other manifest hash in header", "wrong_manifest", "manifest_hash differs from the manifest's", flip(1))
	binInvalid("style out of range", "malformed", "style index ≥ len(styles)", func(b []byte) []byte { b[33], b[34] = 0, 2; return b })
	binInvalid("question count", "malformed", "nq differs from the manifest", func(b []byte) []byte { b[36] = 3; return b })
	binInvalid("option count", "malformed", "no differs from the manifest", func(b []byte) []byte { b[38] = 3; return b })
	binInvalid("non-canonical alpha", "malformed", "α encodes p (non-canonical field element)", func(b []byte) []byte {
		copy(b[sel(0, 0):], mustHex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"))
		return b
	})
	binInvalid("negative alpha", "malformed", "α with the low bit set (negative s, non-canonical)", func(b []byte) []byte {
		b[sel(0, 0)] |= 1
		return b
	})
	binInvalid("identity alpha", "malformed", "α is the identity", func(b []byte) []byte {
		copy(b[sel(0, 1):sel(0, 1)+32], make([]byte, 32))
		return b
	})
	binInvalid("non-canonical scalar", "malformed", "c_0 of the first selection proof = ℓ", func(b []byte) []byte {
		copy(b[sel(0, 0)+64+64:], mustHex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010"))
		return b
	})
	binInvalid("tampered c_0", "bad_proof", "lowest bit of c_0 of selection (0,0) flipped", flip(sel(0, 0)+64+64))
	binInvalid("tampered z_1", "bad_proof", "lowest bit of z_1 of selection (0,1) flipped", flip(sel(0, 1)+64+128+96))
	binInvalid("tampered sum proof z", "bad_proof", "lowest bit of z_0 of question 1's sum proof flipped", flip(sumOff(1)+96))
	binInvalid("replaced A_0", "bad_proof", "A_0 of selection (1,0) replaced by another valid point", func(b []byte) []byte {
		copy(b[sel(1, 0)+64:], mustHex(point("other point")))
		return b
	})
	binInvalid("replaced B_1", "bad_proof", "B_1 of selection (1,1) replaced by another valid point", func(b []byte) []byte {
		copy(b[sel(1, 1)+64+128+32:], mustHex(point("other point")))
		return b
	})
	binInvalid("swapped alpha beta", "bad_proof", "α and β of selection (0,0) swapped", func(b []byte) []byte {
		o := sel(0, 0)
		a := append([]byte(nil), b[o:o+32]...)
		copy(b[o:o+32], b[o+32:o+64])
		copy(b[o+32:o+64], a)
		return b
	})
	binInvalid("swapped selections", "bad_proof", "selections 0 and 1 of question 0 swapped (option index is in the transcript)", func(b []byte) []byte {
		o := sel(0, 0)
		s0 := append([]byte(nil), b[o:o+320]...)
		copy(b[o:o+320], b[o+320:o+640])
		copy(b[o+320:o+640], s0)
		return b
	})
	binInvalid("style changed", "bad_proof", "style 0 ballot relabelled as style 1 (style is in the transcript)", func(b []byte) []byte { b[34] = 1; return b })
	binInvalid("proof from another ballot", "bad_proof", "proof of selection (0,0) replaced by the proof of the same position of another ballot", func(b []byte) []byte {
		o := sel(0, 0) + 64
		copy(b[o:o+256], ballots[4].bin[o:o+256])
		return b
	})
	binInvalid("ciphertext from another ballot", "bad_proof", "ciphertext of selection (0,0) replaced by that of another ballot with the same mark", func(b []byte) []byte {
		o := sel(0, 0)
		copy(b[o:o+64], ballots[2].bin[o:o+64])
		return b
	})
	binInvalid("oversize", "malformed", "larger than 64 KiB", func(b []byte) []byte { return append(b, make([]byte, 65536)...) })

	// Ballots made for another manifest or key, relabelled with our hash.
	other := func(name, reason string, edit func(m2 *manifest.Manifest)) {
		m2 := *m
		edit(&m2)
		e2, err := ballot.NewElection(&m2)
		must(err)
		b2, _, err := e2.Encrypt(drbg.New("eballot-v1 test vectors / "+name), 0, [][]int{{1, 0}, {1, 0}})
		must(err)
		bin, err := b2.MarshalBinary()
		must(err)
		copy(bin[1:33], h[:])
		_, err = decodeVerify(e, bin)
		if errKind(err) != "bad_proof" {
			log.Fatalf("%s: %v", name, err)
		}
		f.Invalid = append(f.Invalid, ballotInvalid{Name: name, Format: "binary", Binary: hex.EncodeToString(bin), Error: "bad_proof", Reason: reason})
	}
	other("other manifest", "proved under another manifest hash (title changed), header relabelled", func(m2 *manifest.Manifest) { m2.Title += "!" })
	other("other election key", "encrypted and proved under another election key (manifest otherwise equal), header relabelled", func(m2 *manifest.Manifest) {
		m2.Trustees.ElectionKey = point("other election key")
	})
	// A selection encrypting 2 with a proof made as if it were 1.
	{
		bin := forgeTwo(e)
		_, err := decodeVerify(e, bin)
		if errKind(err) != "bad_proof" {
			log.Fatalf("forged 2: %v", err)
		}
		f.Invalid = append(f.Invalid, ballotInvalid{Name: "value 2 with forged proof", Format: "binary", Binary: hex.EncodeToString(bin), Error: "bad_proof",
			Reason: "question 1 option 0 encrypts 2 (and the sum 2); the proofs were made by the honest prover as if the value were 1"})
	}

	// JSON invalid.
	js := f.Valid[0].JSON
	jsInvalid := func(name, want, reason string, fn func(o map[string]any)) {
		var o map[string]any
		must(json.Unmarshal(js, &o))
		fn(o)
		b, err := json.Marshal(o)
		must(err)
		if bb, err2 := e.ParseJSON(b); err2 != nil {
			err = err2
		} else {
			err = e.Verify(bb)
		}
		if got := errKind(err); got != want {
			log.Fatalf("invalid JSON ballot %q: got %s (%v)", name, got, err)
		}
		f.Invalid = append(f.Invalid, ballotInvalid{Name: name, Format: "json", JSON: b, Error: want, Reason: reason})
	}
	s00 := func(o map[string]any) map[string]any {
		return o["questions"].([]any)[0].(map[string]any)["selections"].([]any)[0].(map[string]any)
	}
	jsInvalid("json unknown field", "malformed", "unknown fields are rejected", func(o map[string]any) { o["note"] = "x" })
	jsInvalid("json missing field", "malformed", "every field is required", func(o map[string]any) { delete(o["questions"].([]any)[0].(map[string]any), "sum_proof") })
	jsInvalid("json uppercase hex", "malformed", "hex is lowercase", func(o map[string]any) { s00(o)["alpha"] = fmt.Sprintf("%X", mustHex(s00(o)["alpha"].(string))) })
	jsInvalid("json short alpha", "malformed", "alpha is 32 bytes (bytes moved to beta)", func(o map[string]any) {
		a, b := s00(o)["alpha"].(string), s00(o)["beta"].(string)
		s00(o)["alpha"], s00(o)["beta"] = a[:62], a[62:]+b
	})
	jsInvalid("json version 2", "malformed", "version must be 1", func(o map[string]any) { o["version"] = 2 })
	jsInvalid("json string style", "malformed", "style is an integer", func(o map[string]any) { o["style"] = "0" })
	jsInvalid("json wrong manifest", "wrong_manifest", "manifest_hash differs", func(o map[string]any) { o["manifest_hash"] = hex.EncodeToString(make([]byte, 32)) })
	jsInvalid("json tampered proof", "bad_proof", "proof of selection (0,0) replaced by that of (0,1)", func(o map[string]any) {
		s01 := o["questions"].([]any)[0].(map[string]any)["selections"].([]any)[1].(map[string]any)
		s00(o)["proof"] = s01["proof"]
	})
	return f
}

func decodeVerify(e *ballot.Election, bin []byte) (*ballot.Ballot, error) {
	b, err := e.Parse(bin)
	if err != nil {
		return nil, err
	}
	return b, e.Verify(b)
}
