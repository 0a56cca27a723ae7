package auth

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
)

// multipartToken reads the CSRF token of a multipart form from its first
// part, when that part is the field "csrf" (every page's upload form puts
// it first), reading at most maxFormBytes of the body, and then restores the
// body byte for byte for the handler. So an upload larger than
// maxFormBytes (a register, a result with its partial decryptions) is
// checked without reading it into memory here; its size is bounded by the
// route's own limit (web.BodyLimit, the handler's MaxBytesReader). It
// returns "" when the first part is not the token: the caller then reads
// the whole form under maxFormBytes, as for any other form.
func multipartToken(r *http.Request, boundary string) string {
	if boundary == "" || r.Body == nil || r.Body == http.NoBody {
		return ""
	}
	body := r.Body
	var seen bytes.Buffer
	mr := multipart.NewReader(io.TeeReader(io.LimitReader(body, maxFormBytes), &seen), boundary)
	tok := ""
	if p, err := mr.NextPart(); err == nil && p.FormName() == "csrf" && p.FileName() == "" {
		if b, err := io.ReadAll(io.LimitReader(p, 1<<10)); err == nil {
			tok = string(b)
		}
	}
	r.Body = replayBody{io.MultiReader(bytes.NewReader(seen.Bytes()), body), body}
	return tok
}

// replayBody is the bytes already read followed by the rest of the body.
type replayBody struct {
	io.Reader
	io.Closer
}
