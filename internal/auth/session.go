package auth

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/unionvote/eballot/internal/web/page"
)

// Session timeouts (docs/auth.md).
const (
	memberIdle     = 15 * time.Minute
	memberAbsolute = 4 * time.Hour
	staffIdle      = 30 * time.Minute
	staffAbsolute  = 10 * time.Hour
	pendingIdle    = 15 * time.Minute
	pendingAbs     = 30 * time.Minute
	touchEvery     = time.Minute
)

// Role is a staff role.
type Role string

// Staff roles.
const (
	RoleOrganiser  Role = "organiser"  // runs ballots of one union
	RoleScrutineer Role = "scrutineer" // independent scrutineer, all unions
	// RoleVolunteer texts members of one campaign of one union
	// (internal/outreach, docs/volunteers.md); sees no ballot pages.
	RoleVolunteer Role = "volunteer"
	// RolePresidingOfficer runs workplace ballot boxes of industrial
	// action ballots (internal/issuance workplace.go, docs/paper.md):
	// created by a scrutineer, sees only their own boxes.
	RolePresidingOfficer Role = "presiding_officer"
)

// StaffIdentity is the signed-in staff member.
type StaffIdentity struct {
	ID      int64
	Role    Role
	UnionID int64 // 0 for scrutineers
	Name    string
}

// session is a loaded server-side session.
type session struct {
	raw      string // cookie value (only in memory)
	kind     string // pending, member, staff, staff_enrol, staff_recovery
	memberID int64
	staffID  int64
	ballotID int64
	staff    *StaffIdentity
	lastSeen time.Time
}

// reqState is what the middleware puts in the request context.
type reqState struct {
	sess *session
	pre  string // pre-session cookie value (anonymous CSRF binding)
}

type ctxKey struct{}

func state(ctx context.Context) *reqState {
	st, _ := ctx.Value(ctxKey{}).(*reqState)
	return st
}

// Member returns the signed-in member's id.
func Member(ctx context.Context) (int64, bool) {
	if st := state(ctx); st != nil && st.sess != nil && st.sess.kind == "member" {
		return st.sess.memberID, true
	}
	return 0, false
}

// Staff returns the signed-in staff member.
func Staff(ctx context.Context) (StaffIdentity, bool) {
	if st := state(ctx); st != nil && st.sess != nil && st.sess.kind == "staff" && st.sess.staff != nil {
		return *st.sess.staff, true
	}
	return StaffIdentity{}, false
}

// RequireMember lets signed-in members through; others get a redirect to
// the sign-in page (GET) or 401.
func RequireMember(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := Member(r.Context()); !ok {
			deny(w, r, http.StatusUnauthorized, "/auth/signin")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// RequireStaff lets signed-in staff with one of roles through (any role
// when none is given); others get a redirect to the staff sign-in page
// (GET), 401, or 403 for a wrong role.
func RequireStaff(roles ...Role) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			st, ok := Staff(r.Context())
			if !ok {
				deny(w, r, http.StatusUnauthorized, "/staff/signin")
				return
			}
			if len(roles) > 0 {
				allowed := false
				for _, role := range roles {
					allowed = allowed || role == st.Role
				}
				if !allowed {
					http.Error(w, "forbidden", http.StatusForbidden)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

func deny(w http.ResponseWriter, r *http.Request, code int, signin string) {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		w.Header().Set("Cache-Control", "no-store")
		if returnPath(r.URL.Path) != "" {
			signin += "?next=" + url.QueryEscape(r.URL.Path)
		}
		http.Redirect(w, r, signin, http.StatusSeeOther)
		return
	}
	http.Error(w, http.StatusText(code), code)
}

// votePath matches the only pages a sign-in returns to: a voting paper.
var votePath = regexp.MustCompile(`^/vote/[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

// returnPath is next if it is a voting paper's path, else "": sign-in
// never redirects anywhere a link could choose (no open redirect).
func returnPath(next string) string {
	if votePath.MatchString(next) {
		return next
	}
	return ""
}

func (s *Service) cookieName(base string) string {
	if s.secure {
		return "__Host-" + base
	}
	return base
}

const (
	sessionCookie = "eb_session"
	preCookie     = "eb_pre"
)

// setSessionCookie writes the session cookie. Member and pending sessions
// are SameSite=Lax so a member who follows a link from webmail (a
// cross-site top-level navigation) arrives signed in; staff sessions are
// Strict. Cross-site POSTs carry no cookie either way (docs/auth.md).
func (s *Service) setSessionCookie(w http.ResponseWriter, raw, kind string) {
	ss := http.SameSiteLaxMode
	if kind == "staff" || kind == "staff_enrol" || kind == "staff_recovery" {
		ss = http.SameSiteStrictMode
	}
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(sessionCookie), Value: raw, Path: "/", HttpOnly: true, Secure: s.secure, SameSite: ss})
}

func (s *Service) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(sessionCookie), Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
}

// validCookieValue accepts only our own format (43 base64url characters).
func validCookieValue(v string) bool {
	if len(v) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(v)
	return err == nil
}

// loadSession finds the live session of raw, or nil.
func (s *Service) loadSession(ctx context.Context, raw string) (*session, error) {
	if !validCookieValue(raw) {
		return nil, nil
	}
	now := s.now()
	se := &session{raw: raw}
	var memberID, staffID, ballotID, unionID *int64
	var role, name *string
	err := s.pool.QueryRow(ctx, `SELECT a.kind, a.member_id, a.staff_id, a.ballot_id, a.last_seen_at, st.role, st.union_id, st.name
		FROM auth_sessions a LEFT JOIN staff st ON st.id = a.staff_id AND st.disabled_at IS NULL
		WHERE a.id_hash = $1 AND a.expires_at > $2 AND a.last_seen_at + make_interval(secs => a.idle_seconds) > $2`,
		sha([]byte(raw)), now).Scan(&se.kind, &memberID, &staffID, &ballotID, &se.lastSeen, &role, &unionID, &name)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load session: %w", err)
	}
	if memberID != nil {
		se.memberID = *memberID
	}
	if ballotID != nil {
		se.ballotID = *ballotID
	}
	if staffID != nil {
		se.staffID = *staffID
		if role == nil { // staff disabled since sign-in
			return nil, nil
		}
		se.staff = &StaffIdentity{ID: *staffID, Role: Role(*role), Name: *name}
		if unionID != nil {
			se.staff.UnionID = *unionID
		}
	}
	if now.Sub(se.lastSeen) > touchEvery {
		if _, err := s.pool.Exec(ctx, `UPDATE auth_sessions SET last_seen_at = $2 WHERE id_hash = $1`, sha([]byte(raw)), now); err != nil {
			return nil, fmt.Errorf("touch session: %w", err)
		}
	}
	return se, nil
}

// startSession creates a new session (a new random id: the session
// fixation defence), deletes the request's previous session if any, and
// sets the cookie. Every sign-in and every privilege change goes through
// here.
func (s *Service) startSession(ctx context.Context, w http.ResponseWriter, r *http.Request, kind string, memberID, staffID, ballotID int64, method string) error {
	now := s.now()
	idle, abs := memberIdle, memberAbsolute
	switch kind {
	case "staff":
		idle, abs = staffIdle, staffAbsolute
	case "pending", "staff_enrol", "staff_recovery":
		idle, abs = pendingIdle, pendingAbs
	}
	raw := base64.RawURLEncoding.EncodeToString(s.randBytes(32))
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("start session: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if st := state(r.Context()); st != nil && st.sess != nil {
		if _, err := tx.Exec(ctx, `DELETE FROM auth_sessions WHERE id_hash = $1`, sha([]byte(st.sess.raw))); err != nil {
			return fmt.Errorf("start session: %w", err)
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO auth_sessions (id_hash, kind, member_id, staff_id, ballot_id, method, created_at, last_seen_at, idle_seconds, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9)`,
		sha([]byte(raw)), kind, nullID(memberID), nullID(staffID), nullID(ballotID), method, now, int(idle/time.Second), now.Add(abs)); err != nil {
		return fmt.Errorf("start session: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("start session: %w", err)
	}
	s.setSessionCookie(w, raw, kind)
	if st := state(r.Context()); st != nil {
		st.sess = &session{raw: raw, kind: kind, memberID: memberID, staffID: staffID, ballotID: ballotID, lastSeen: now}
	}
	return nil
}

// endSession deletes the request's session and clears the cookie.
func (s *Service) endSession(ctx context.Context, w http.ResponseWriter, r *http.Request) error {
	if st := state(r.Context()); st != nil && st.sess != nil {
		if _, err := s.pool.Exec(ctx, `DELETE FROM auth_sessions WHERE id_hash = $1`, sha([]byte(st.sess.raw))); err != nil {
			return fmt.Errorf("end session: %w", err)
		}
		st.sess = nil
	}
	s.clearSessionCookie(w)
	return nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// Middleware loads the session into the request context, gives anonymous
// browsers a pre-session cookie (the binding of sign-in forms' CSRF
// tokens), and refuses state-changing requests without a valid CSRF token
// and a same-origin Origin/Sec-Fetch-Site (403). Exempt: /webhooks/…
// (signed by the provider). The ledger (/ledger/…) never reaches it: it is
// mounted cookie-free, outside this middleware (internal/web CookieFree),
// so no session is read there. See docs/auth.md.
func (s *Service) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if csrfExempt(r) {
			next.ServeHTTP(w, r)
			return
		}
		st := &reqState{}
		hadSession := false
		if c, err := r.Cookie(s.cookieName(sessionCookie)); err == nil && c.Value != "" {
			hadSession = true
			se, err := s.loadSession(r.Context(), c.Value)
			if err != nil {
				// The phone's scripts (JSON, X-CSRF-Token) and the APIs get
				// the JSON problem they understand ("unavailable",
				// Retry-After); pages get the error page.
				s.fail(w, r, fmt.Errorf("%w: %w", errSessionLookup, err), wantsJSON(r) || page.API(r))
				return
			}
			if se == nil {
				s.clearSessionCookie(w) // unknown or expired: never adopted
			}
			st.sess = se
		}
		if c, err := r.Cookie(s.cookieName(preCookie)); err == nil && validCookieValue(c.Value) {
			st.pre = c.Value
		} else if !isUnsafe(r.Method) {
			st.pre = base64.RawURLEncoding.EncodeToString(s.randBytes(32))
			http.SetCookie(w, &http.Cookie{Name: s.cookieName(preCookie), Value: st.pre, Path: "/", HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
		}
		if isUnsafe(r.Method) && !s.csrfOK(r, st) {
			s.log.WarnContext(r.Context(), "csrf check failed", "method", r.Method)
			if st.sess == nil && hadSession && s.sameOrigin(r) {
				// The session this page was signed in with has expired (its
				// token was bound to it): say so, so the member signs in
				// again, rather than a bare refusal. Nothing is done either way.
				s.fail(w, r, errSignedOut, wantsJSON(r))
				return
			}
			s.pages.Refuse(w, r, errCSRF)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, st)))
	})
}

func isUnsafe(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return false
	}
	return true
}

// csrfExempt: Twilio webhooks (authenticated by X-Twilio-Signature).
func csrfExempt(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/webhooks/")
}

// CSRFToken is the synchronizer token of the request's session, or of its
// pre-session cookie when signed out ("" when it has neither). It is an
// HMAC of the cookie value, so it changes whenever the session rotates.
func (s *Service) CSRFToken(r *http.Request) string {
	st := state(r.Context())
	if st == nil {
		return ""
	}
	return s.csrfFor(st)
}

func (s *Service) csrfFor(st *reqState) string {
	switch {
	case st.sess != nil:
		return base64.RawURLEncoding.EncodeToString(mac(s.csrfKey, "session", st.sess.raw))
	case st.pre != "":
		return base64.RawURLEncoding.EncodeToString(mac(s.csrfKey, "pre", st.pre))
	}
	return ""
}

const maxFormBytes = 64 << 10

// sameOrigin: the request's Origin and Sec-Fetch-Site (when sent) say it
// comes from our own pages.
func (s *Service) sameOrigin(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" && o != s.origin {
		return false
	}
	sfs := r.Header.Get("Sec-Fetch-Site")
	return sfs == "" || sfs == "same-origin" || sfs == "none"
}

// wantsJSON: the request comes from a page's script (JSON body or the
// X-CSRF-Token header), so its answer is JSON.
func wantsJSON(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/json" || r.Header.Get("X-CSRF-Token") != ""
}

func (s *Service) csrfOK(r *http.Request, st *reqState) bool {
	if !s.sameOrigin(r) {
		return false
	}
	want := s.csrfFor(st)
	if want == "" {
		return false
	}
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if mt == "multipart/form-data" {
			got = multipartToken(r, params["boundary"]) // uploads over maxFormBytes: the token comes first
		}
		if got == "" && (mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data") {
			r.Body = http.MaxBytesReader(nil, r.Body, maxFormBytes)
			got = r.PostFormValue("csrf")
		}
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// Cleanup deletes expired sessions, ceremonies, codes, enrolments and
// rate-limit windows. Run it periodically (e.g. every 10 minutes) from
// one or all replicas: it is idempotent.
func (s *Service) Cleanup(ctx context.Context) error {
	now := s.now()
	for _, q := range []string{
		`DELETE FROM auth_sessions WHERE expires_at < $1 OR last_seen_at + make_interval(secs => idle_seconds) < $1`,
		`DELETE FROM auth_webauthn_ceremonies WHERE expires_at < $1`,
		`DELETE FROM auth_otp_codes WHERE created_at < $1::timestamptz - interval '1 day'`,
		`DELETE FROM auth_staff_enrolments WHERE expires_at < $1::timestamptz - interval '1 day'`,
		`DELETE FROM auth_rate_limits WHERE window_start < $1::timestamptz - interval '1 day'`,
	} {
		if _, err := s.pool.Exec(ctx, q, now); err != nil {
			return fmt.Errorf("auth cleanup: %w", err)
		}
	}
	return nil
}
