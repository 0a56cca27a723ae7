package election_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"testing"

	"github.com/unionvote/eballot/crypto/manifest"
	"github.com/unionvote/eballot/internal/election"
)

// CleanPhoto reads uploads from anyone with an organiser's session: on
// any input it either refuses or returns a JPEG or PNG that decodes, of
// the size its header gave, within the manifest's bound.
func FuzzCleanPhoto(f *testing.F) {
	img := image.NewGray(image.Rect(0, 0, 3, 2))
	img.Set(1, 1, color.Gray{90})
	var p bytes.Buffer
	if err := png.Encode(&p, img); err != nil {
		f.Fatal(err)
	}
	f.Add(p.Bytes())
	f.Add(testJPEG(f, 8, 8))
	f.Add([]byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"))
	f.Add([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x7f\xff\xff\xff\x7f\xff\xff\xff\x08\x02\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ph, err := election.CleanPhoto(data)
		if err != nil {
			return
		}
		cfg, format, err := image.DecodeConfig(bytes.NewReader(ph.Data))
		if err != nil || cfg.Width != ph.Width || cfg.Height != ph.Height || len(ph.Data) > manifest.MaxAddressPhoto {
			t.Fatalf("kept photo: %v %+v", err, cfg)
		}
		if (format == "png") != (ph.Type == manifest.PhotoPNG) || (format == "jpeg") != (ph.Type == manifest.PhotoJPEG) {
			t.Fatalf("type %s for a %s", ph.Type, format)
		}
	})
}
