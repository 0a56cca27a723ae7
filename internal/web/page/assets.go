package page

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"

	cryptojs "github.com/unionvote/eballot/crypto/js"
)

//go:embed static
var staticFS embed.FS

// assets serves embedded static files under fingerprinted names
// (/static/app.3f2a9c1b.css) with a one-year immutable cache, so a page
// weight is paid once per release.
type assets struct {
	byName map[string]string // logical name → URL path
	files  map[string][]byte // URL path (without /static/) → content
	gz     map[string][]byte // the same, gzip-compressed once at start-up
}

func loadAssets() (*assets, error) {
	a := &assets{byName: map[string]string{}, files: map[string][]byte{}, gz: map[string][]byte{}}
	a.add("eballot.min.js", cryptojs.Bundle)
	a.add("eballot-verifier.min.js", cryptojs.VerifierBundle)
	a.add("eballot-verify-worker.min.js", cryptojs.VerifyWorkerBundle)
	a.add("eballot-ranked.min.js", cryptojs.RankedBundle)
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		a.add(strings.TrimPrefix(p, "static/"), b)
		return nil
	})
	return a, err
}

// add registers content under name with a fingerprint of its hash.
func (a *assets) add(name string, b []byte) {
	sum := sha256.Sum256(b)
	ext := path.Ext(name)
	base := strings.TrimSuffix(name, ext)
	if strings.HasSuffix(base, ".min") { // eballot.min.js → eballot.<hash>.min.js
		base, ext = strings.TrimSuffix(base, ".min"), ".min"+ext
	}
	fp := base + "." + hex.EncodeToString(sum[:4]) + ext
	a.byName[name] = "/static/" + fp
	a.files[fp] = b
	var z bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
	_, _ = zw.Write(b)
	_ = zw.Close()
	if z.Len() < len(b) {
		a.gz[fp] = z.Bytes()
	}
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.ReplaceAll(q, " ", "") != "q=0" {
			return true
		}
	}
	return false
}

// URL returns the fingerprinted URL of a logical asset name; it panics at
// template execution on a name that does not exist (a programming error
// caught by the page tests).
func (a *assets) URL(name string) (string, error) {
	u, ok := a.byName[name]
	if !ok {
		return "", fmt.Errorf("web: no asset %q", name)
	}
	return u, nil
}

func (a *assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/static/")
	b, ok := a.files[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("Vary", "Accept-Encoding")
	if z, ok := a.gz[name]; ok && acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		b = z
	}
	h.Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}
