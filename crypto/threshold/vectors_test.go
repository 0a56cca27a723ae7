package threshold

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/unionvote/eballot/crypto/internal/vectortest"

	"github.com/cloudflare/circl/group"
)

type dkgVectors struct {
	Description     string            `json:"description"`
	Ceremony        string            `json:"ceremony"`
	N               int               `json:"n"`
	Threshold       int               `json:"threshold"`
	SchnorrContexts []string          `json:"schnorr_contexts"`
	Dealings        []json.RawMessage `json:"dealings"`
	DealingsBinary  []string          `json:"dealings_binary"`
	Shares          []json.RawMessage `json:"shares"`
	SharesBinary    []string          `json:"shares_binary"`
	PublicKey       json.RawMessage   `json:"public_key"`
	SecretShares    []string          `json:"secret_shares"`
	ManifestHash    string            `json:"manifest_hash"`
	Alphas          []string          `json:"alphas"`
	Partials        []json.RawMessage `json:"partials"`
	PartialsBinary  []string          `json:"partials_binary"`
	Combinations    []struct {
		Trustees []int    `json:"trustees"`
		XAlpha   []string `json:"x_alpha"`
	} `json:"combinations"`
	Complaint struct {
		BadShare                  json.RawMessage `json:"bad_share"`
		Complaint                 json.RawMessage `json:"complaint"`
		ComplaintBinary           string          `json:"complaint_binary"`
		DisqualifyWithoutAnswer   bool            `json:"disqualify_without_answer"`
		ValidAnswer               json.RawMessage `json:"valid_answer"`
		DisqualifyWithValidAnswer bool            `json:"disqualify_with_valid_answer"`
		WrongAnswer               json.RawMessage `json:"wrong_answer"`
		DisqualifyWithWrongAnswer bool            `json:"disqualify_with_wrong_answer"`
		Unjustified               json.RawMessage `json:"unjustified_complaint"`
		DisqualifyUnjustified     bool            `json:"disqualify_unjustified"`
	} `json:"complaint"`
	InvalidDealings []struct {
		Name    string          `json:"name"`
		Dealing json.RawMessage `json:"dealing"`
	} `json:"invalid_dealings"`
	InvalidPartials []struct {
		Name         string          `json:"name"`
		ManifestHash string          `json:"manifest_hash"`
		PublicKey    json.RawMessage `json:"public_key"`
		Alphas       []string        `json:"alphas"`
		Partial      json.RawMessage `json:"partial"`
	} `json:"invalid_partials"`
	InvalidEncodings []struct {
		Name   string `json:"name"`
		Kind   string `json:"kind"`
		Format string `json:"format"`
		Data   string `json:"data"`
	} `json:"invalid_encodings"`
}

func compact(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func loadDKG(t testing.TB) *dkgVectors {
	t.Helper()
	var v dkgVectors
	vectortest.Load(t, "dkg_v1.json", &v)
	return &v
}

func elems(t testing.TB, hs []string) []group.Element {
	t.Helper()
	var out []group.Element
	for _, h := range hs {
		e, err := decodeElement(vectortest.Unhex(t, h))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func TestVectorsDKG(t *testing.T) {
	v := loadDKG(t)
	n, k := v.N, v.Threshold
	var dealings []*Dealing
	for i, raw := range v.Dealings {
		var d Dealing
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatal(err)
		}
		if err := d.Verify(v.Ceremony, n, k); err != nil {
			t.Fatalf("dealing %d: %v", i+1, err)
		}
		if got := hex.EncodeToString(DealingContext(v.Ceremony, n, k, i+1)); got != v.SchnorrContexts[i] {
			t.Errorf("context %d = %s", i+1, got)
		}
		bin, _ := d.MarshalBinary()
		if hex.EncodeToString(bin) != v.DealingsBinary[i] {
			t.Errorf("dealing %d binary mismatch", i+1)
		}
		d2, err := ParseDealing(bin)
		if err != nil {
			t.Fatal(err)
		}
		if j, _ := json.Marshal(d2); !bytes.Equal(j, compact(t, raw)) {
			t.Errorf("dealing %d JSON round trip mismatch", i+1)
		}
		dealings = append(dealings, &d)
	}
	shares := make([][]*Share, n+1) // by recipient
	for i, raw := range v.Shares {
		var s Share
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatal(err)
		}
		if err := VerifyShare(dealings[s.Dealer-1], &s); err != nil {
			t.Fatal(err)
		}
		if b, _ := s.MarshalBinary(); hex.EncodeToString(b) != v.SharesBinary[i] {
			t.Errorf("share %d binary mismatch", i)
		}
		if j, _ := json.Marshal(&s); !bytes.Equal(j, compact(t, raw)) {
			t.Errorf("share %d JSON round trip mismatch", i)
		}
		shares[s.Recipient] = append(shares[s.Recipient], &s)
	}
	var pub PublicKey
	if err := json.Unmarshal(v.PublicKey, &pub); err != nil {
		t.Fatal(err)
	}
	if j, _ := json.Marshal(&pub); !bytes.Equal(j, compact(t, v.PublicKey)) {
		t.Error("public key JSON round trip mismatch")
	}
	pfd, err := PublicFromDealings(v.Ceremony, n, k, dealings)
	if err != nil || !pfd.Equal(&pub) {
		t.Fatalf("PublicFromDealings: %v", err)
	}
	var secrets []*SecretShare
	for j := 1; j <= n; j++ {
		pk, sk, err := Finalise(v.Ceremony, n, k, dealings, j, shares[j])
		if err != nil {
			t.Fatal(err)
		}
		if !pk.Equal(&pub) {
			t.Error("Finalise public key mismatch")
		}
		want, err := ParseSecretShare(vectortest.Unhex(t, v.SecretShares[j-1]))
		if err != nil || !sk.Equal(want) {
			t.Errorf("secret share %d mismatch", j)
		}
		secrets = append(secrets, sk)
	}
	// x = Σ λ_j x_j over {1,2}: x·G = K.
	lam := lagrangeAtZero([]int{1, 2})
	x := g.NewScalar().Mul(lam[0], secrets[0].x)
	x.Add(x, g.NewScalar().Mul(lam[1], secrets[1].x))
	if !g.NewElement().MulGen(x).IsEqual(pub.Key) {
		t.Fatal("interpolated secret does not match K")
	}

	mh := vectortest.Unhex(t, v.ManifestHash)
	alphas := elems(t, v.Alphas)
	var partials []*Partial
	for i, raw := range v.Partials {
		var p Partial
		if err := json.Unmarshal(raw, &p); err != nil {
			t.Fatal(err)
		}
		if err := VerifyPartial(&pub, mh, alphas, &p); err != nil {
			t.Fatalf("partial %d: %v", i+1, err)
		}
		pb, err := ParsePartial(vectortest.Unhex(t, v.PartialsBinary[i]))
		if err != nil {
			t.Fatal(err)
		}
		if j, _ := json.Marshal(pb); !bytes.Equal(j, compact(t, raw)) {
			t.Errorf("partial %d binary/JSON mismatch", i+1)
		}
		partials = append(partials, &p)
	}
	for _, c := range v.Combinations {
		got, err := Combine(&pub, mh, alphas, []*Partial{partials[c.Trustees[0]-1], partials[c.Trustees[1]-1]})
		if err != nil {
			t.Fatal(err)
		}
		want := elems(t, c.XAlpha)
		for i := range got {
			if !got[i].IsEqual(want[i]) || !want[i].IsEqual(g.NewElement().Mul(alphas[i], x)) {
				t.Errorf("combination %v α %d mismatch", c.Trustees, i)
			}
		}
	}

	// Complaint.
	cv := v.Complaint
	var bad, goodAns, wrongAns Share
	var comp, unjust Complaint
	for _, p := range []struct {
		raw []byte
		v   any
	}{{cv.BadShare, &bad}, {cv.ValidAnswer, &goodAns}, {cv.WrongAnswer, &wrongAns}, {cv.Complaint, &comp}, {cv.Unjustified, &unjust}} {
		if err := json.Unmarshal(p.raw, p.v); err != nil {
			t.Fatal(err)
		}
	}
	if VerifyShare(dealings[bad.Dealer-1], &bad) == nil {
		t.Error("bad share verifies")
	}
	cb, err := ParseComplaint(vectortest.Unhex(t, cv.ComplaintBinary))
	if err != nil || cb.Dealer != comp.Dealer || cb.Recipient != comp.Recipient || !cb.Share.IsEqual(comp.Share) || !comp.Share.IsEqual(bad.Value) {
		t.Fatal("complaint binary mismatch")
	}
	d := dealings[comp.Dealer-1]
	for _, c := range []struct {
		c    *Complaint
		ans  *Share
		want bool
	}{{&comp, nil, cv.DisqualifyWithoutAnswer}, {&comp, &goodAns, cv.DisqualifyWithValidAnswer}, {&comp, &wrongAns, cv.DisqualifyWithWrongAnswer}, {&unjust, nil, cv.DisqualifyUnjustified}} {
		dd := dealings[c.c.Dealer-1]
		got, err := Adjudicate(dd, c.c, c.ans)
		if err != nil || got != c.want {
			t.Errorf("Adjudicate = %v, %v; want %v", got, err, c.want)
		}
	}
	if _, err := Adjudicate(dealings[0], &comp, nil); err == nil {
		t.Error("complaint against another dealing accepted")
	}
	_ = d

	for _, c := range v.InvalidDealings {
		var dd Dealing
		if err := json.Unmarshal(c.Dealing, &dd); err != nil {
			continue // rejected at decoding: fine
		}
		if err := dd.Verify(v.Ceremony, n, k); err == nil {
			t.Errorf("invalid dealing %q verifies", c.Name)
		}
	}
	for _, c := range v.InvalidPartials {
		var pk PublicKey
		var p Partial
		if err := json.Unmarshal(c.PublicKey, &pk); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(c.Partial, &p); err != nil {
			t.Fatal(c.Name, err)
		}
		if err := VerifyPartial(&pk, vectortest.Unhex(t, c.ManifestHash), elems(t, c.Alphas), &p); err == nil {
			t.Errorf("invalid partial %q verifies", c.Name)
		}
	}
	for _, c := range v.InvalidEncodings {
		var err error
		if c.Format == "json" {
			switch c.Kind {
			case "dealing":
				err = json.Unmarshal([]byte(c.Data), new(Dealing))
			default:
				t.Fatalf("unknown kind %s", c.Kind)
			}
		} else {
			b := vectortest.Unhex(t, c.Data)
			switch c.Kind {
			case "dealing":
				_, err = ParseDealing(b)
			case "share":
				_, err = ParseShare(b)
			case "complaint":
				_, err = ParseComplaint(b)
			case "partial":
				_, err = ParsePartial(b)
			default:
				t.Fatalf("unknown kind %s", c.Kind)
			}
		}
		if err == nil {
			t.Errorf("invalid encoding %q decodes", c.Name)
		}
	}
}
