package page

import (
	"os"
	"testing"
)

// TestFileKind: each of the tool's files is named as what it is, so a
// refused upload can say which file was received.
func TestFileKind(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile("../../../crypto/report/testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, tc := range []struct {
		name string
		file []byte
		want string
	}{
		{"report", read("report_v1.json"), "file.kind.report"},
		{"signature", read("report_v1.json.sig"), "file.kind.signature"},
		{"result", read("result_v1.json"), "file.kind.result"},
		{"trustees", []byte(`{"threshold":2,"election_key":"ab","public_keys":["cd"]}`), "file.kind.trustees"},
		{"partial", []byte(`{"version":1,"manifest_hash":"ab","trustee":1,"decryptions":[]}` + "\n"), "file.kind.partial"},
		{"export", []byte(`{"type":"header","format":"eballot-export","version":1}` + "\n" + `{"type":"manifest"}`), "file.kind.export"},
		{"share", []byte("age-encryption.org/v1\n-> X25519 abc\n"), "file.kind.age"},
		{"csv", []byte("member_number,name,mobile\nA1,Ann,07700900001\n"), "file.kind.csv"},
		{"empty", []byte("  \n"), "file.kind.empty"},
		{"other json", []byte(`{"hello":1}`), "file.kind.unknown_json"},
		{"other", []byte("\x89PNG\r\n"), "file.kind.unknown"},
	} {
		if got := FileKind(tc.file); got != tc.want {
			t.Errorf("%s: FileKind = %s, want %s", tc.name, got, tc.want)
		}
	}
	if _, wrong := WrongFile("file.kind.report", read("report_v1.json")); wrong {
		t.Error("the report refused as the wrong file")
	}
	m, wrong := WrongFile("file.kind.trustees", read("report_v1.json"))
	if !wrong || m.Key != "file.wrong" || m.Args[0].(Msg).Key != "file.kind.trustees" || m.Args[1].(Msg).Key != "file.kind.report" {
		t.Errorf("WrongFile = %+v, %v", m, wrong)
	}
}
