package manifest_test

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"

	"github.com/unionvote/eballot/crypto/manifest"
)

func ExampleCanonicalize() {
	out, _ := manifest.Canonicalize([]byte(`{ "b": "é\u0001", "a": [1, -0] }`))
	fmt.Println(string(out))
	// Output: {"a":[1,0],"b":"é\u0001"}
}

// Parse a manifest strictly and compute manifest_hash.
func ExampleParse() {
	var vec struct {
		Manifest json.RawMessage `json:"manifest"`
	}
	b, _ := os.ReadFile("../testdata/manifest_v1.json")
	_ = json.Unmarshal(b, &vec)

	m, err := manifest.Parse(vec.Manifest)
	if err != nil {
		fmt.Println(err)
		return
	}
	h, _ := m.Hash()
	fmt.Println(hex.EncodeToString(h[:]))
	fmt.Println(len(m.Questions), "questions,", len(m.Styles), "styles")

	_, err = manifest.Parse([]byte(`{"version":1,"Election_ID":"x"}`))
	fmt.Println(err != nil)
	// Output:
	// 22f9b95508bf9a5e147e4da1492ad70fcb0e675edabf0f6bfbb0991b87fcf8d7
	// 2 questions, 2 styles
	// true
}
