package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/jackc/pgx/v5"
)

const ceremonyTTL = 5 * time.Minute

// maxCeremonyBody bounds a WebAuthn response body.
const maxCeremonyBody = 64 << 10

// waUser is a member or staff member as go-webauthn sees them.
type waUser struct {
	subject       string
	handle        []byte
	name, display string
	creds         []webauthn.Credential
	counts        map[string]uint32 // stored sign counts by credential id
}

func (u *waUser) WebAuthnID() []byte                         { return u.handle }
func (u *waUser) WebAuthnName() string                       { return u.name }
func (u *waUser) WebAuthnDisplayName() string                { return u.display }
func (u *waUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// userHandle returns subject's WebAuthn user handle, creating it (32 random
// bytes) if create.
func (s *Service) userHandle(ctx context.Context, subject string, create bool) ([]byte, error) {
	var h []byte
	err := s.pool.QueryRow(ctx, `SELECT handle FROM auth_webauthn_users WHERE subject = $1`, subject).Scan(&h)
	if err == nil {
		return h, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) || !create {
		return nil, err
	}
	h = s.randBytes(32)
	if _, err := s.pool.Exec(ctx, `INSERT INTO auth_webauthn_users (subject, handle) VALUES ($1, $2) ON CONFLICT (subject) DO NOTHING`, subject, h); err != nil {
		return nil, err
	}
	return s.userHandle(ctx, subject, false)
}

// loadWAUser loads subject with its handle and credentials.
func (s *Service) loadWAUser(ctx context.Context, subject string, create bool) (*waUser, error) {
	h, err := s.userHandle(ctx, subject, create)
	if err != nil {
		return nil, fmt.Errorf("load passkey user: %w", err)
	}
	u := &waUser{subject: subject, handle: h, counts: map[string]uint32{}}
	id, _ := strconv.ParseInt(subject[1:], 10, 64)
	if strings.HasPrefix(subject, "m") {
		m, err := s.reg.Details(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("load passkey user: %w", err)
		}
		unions, err := s.ballots.UnionLabels(ctx, []int64{m.UnionID})
		if err != nil {
			return nil, fmt.Errorf("load passkey user: %w", err)
		}
		u.name, u.display = m.Number+"@"+unions[m.UnionID].Slug, m.Name
	} else if err := s.pool.QueryRow(ctx, `SELECT 'staff-' || id::text, name FROM staff WHERE id = $1 AND disabled_at IS NULL`, id).
		Scan(&u.name, &u.display); err != nil {
		return nil, fmt.Errorf("load passkey user: %w", err)
	}
	rows, err := s.pool.Query(ctx, `SELECT credential, sign_count FROM auth_webauthn_credentials WHERE subject = $1 ORDER BY created_at`, subject)
	if err != nil {
		return nil, fmt.Errorf("load passkey user: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var raw []byte
		var count int64
		if err := rows.Scan(&raw, &count); err != nil {
			return nil, fmt.Errorf("load passkey user: %w", err)
		}
		var c webauthn.Credential
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("load passkey user: credential: %w", err)
		}
		u.creds = append(u.creds, c)
		u.counts[string(c.ID)] = uint32(count)
	}
	return u, rows.Err()
}

// saveCeremony keeps the ceremony's session data server-side, bound to the
// browser (binding = hash of its session or pre-session cookie) and to a
// purpose; a new begin replaces an unfinished one.
func (s *Service) saveCeremony(ctx context.Context, binding []byte, purpose, subject string, sd *webauthn.SessionData) error {
	data, err := json.Marshal(sd)
	if err != nil {
		return fmt.Errorf("save ceremony: %w", err)
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO auth_webauthn_ceremonies (binding, purpose, subject, data, expires_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (binding, purpose) DO UPDATE SET subject = EXCLUDED.subject, data = EXCLUDED.data, expires_at = EXCLUDED.expires_at`,
		binding, purpose, subject, data, s.now().Add(ceremonyTTL))
	if err != nil {
		return fmt.Errorf("save ceremony: %w", err)
	}
	return nil
}

// takeCeremony deletes and returns the ceremony: single use, so a replayed
// response finds nothing (go-webauthn itself would accept the same
// assertion twice with the same session data).
func (s *Service) takeCeremony(ctx context.Context, binding []byte, purpose string) (string, *webauthn.SessionData, error) {
	var subject *string
	var data []byte
	var expires time.Time
	err := s.pool.QueryRow(ctx, `DELETE FROM auth_webauthn_ceremonies WHERE binding = $1 AND purpose = $2 RETURNING subject, data, expires_at`,
		binding, purpose).Scan(&subject, &data, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil, fmt.Errorf("%w: no ceremony in progress", ErrPasskey)
	}
	if err != nil {
		return "", nil, fmt.Errorf("take ceremony: %w", err)
	}
	if !expires.After(s.now()) {
		return "", nil, fmt.Errorf("%w: ceremony expired", ErrPasskey)
	}
	var sd webauthn.SessionData
	if err := json.Unmarshal(data, &sd); err != nil {
		return "", nil, fmt.Errorf("take ceremony: %w", err)
	}
	sub := ""
	if subject != nil {
		sub = *subject
	}
	return sub, &sd, nil
}

// beginRegistration starts adding a passkey for subject: a discoverable
// credential (resident key required) with user verification required.
func (s *Service) beginRegistration(ctx context.Context, binding []byte, purpose, subject string) (*protocol.CredentialCreation, error) {
	u, err := s.loadWAUser(ctx, subject, true)
	if err != nil {
		return nil, err
	}
	var excl []protocol.CredentialDescriptor
	for i := range u.creds {
		excl = append(excl, u.creds[i].Descriptor())
	}
	yes := true
	creation, sd, err := s.wa.BeginRegistration(u,
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			ResidentKey: protocol.ResidentKeyRequirementRequired, RequireResidentKey: &yes,
			UserVerification: protocol.VerificationRequired,
		}),
		webauthn.WithExclusions(excl),
		webauthn.WithConveyancePreference(protocol.PreferNoAttestation))
	if err != nil {
		return nil, fmt.Errorf("begin registration: %w", err)
	}
	if err := s.saveCeremony(ctx, binding, purpose, subject, sd); err != nil {
		return nil, err
	}
	return creation, nil
}

// finishRegistration verifies the attestation and stores the credential.
func (s *Service) finishRegistration(ctx context.Context, binding []byte, purpose, subject string, body io.Reader) error {
	sub, sd, err := s.takeCeremony(ctx, binding, purpose)
	if err != nil {
		return err
	}
	if sub != subject {
		return fmt.Errorf("%w: ceremony of another user", ErrPasskey)
	}
	parsed, err := protocol.ParseCredentialCreationResponseBody(io.LimitReader(body, maxCeremonyBody))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrPasskey, err)
	}
	u, err := s.loadWAUser(ctx, subject, false)
	if err != nil {
		return err
	}
	cred, err := s.wa.CreateCredential(u, *sd, parsed)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrPasskey, err)
	}
	raw, err := json.Marshal(cred)
	if err != nil {
		return fmt.Errorf("store passkey: %w", err)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO auth_webauthn_credentials (id, subject, credential, sign_count, created_at) VALUES ($1, $2, $3, $4, $5)`,
		cred.ID, subject, raw, int64(cred.Authenticator.SignCount), s.now()); err != nil {
		return fmt.Errorf("%w: store passkey: %w", ErrPasskey, err)
	}
	return nil
}

// beginLogin starts a discoverable (passkey) sign-in, user verification
// required.
func (s *Service) beginLogin(ctx context.Context, binding []byte, purpose string) (*protocol.CredentialAssertion, error) {
	assertion, sd, err := s.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, fmt.Errorf("begin login: %w", err)
	}
	if err := s.saveCeremony(ctx, binding, purpose, "", sd); err != nil {
		return nil, err
	}
	return assertion, nil
}

// finishLogin verifies a passkey assertion and returns the subject. prefix
// ("m" or "s") restricts it to members or staff. A counter regression
// (CloneWarning, which go-webauthn reports without failing) is refused
// with ErrCloneWarning and counted on the credential; the caller audits.
func (s *Service) finishLogin(ctx context.Context, binding []byte, purpose, prefix string, body io.Reader) (string, error) {
	_, sd, err := s.takeCeremony(ctx, binding, purpose)
	if err != nil {
		return "", err
	}
	b, err := io.ReadAll(io.LimitReader(body, maxCeremonyBody))
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrPasskey, err)
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(b)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrPasskey, err)
	}
	var user *waUser
	handler := func(rawID, userHandle []byte) (webauthn.User, error) {
		var subject string
		err := s.pool.QueryRow(ctx, `SELECT u.subject FROM auth_webauthn_users u JOIN auth_webauthn_credentials c ON c.subject = u.subject
			WHERE u.handle = $1 AND c.id = $2`, userHandle, rawID).Scan(&subject)
		if err != nil {
			return nil, errors.New("unknown credential")
		}
		if !strings.HasPrefix(subject, prefix) {
			return nil, errors.New("credential of the wrong kind of account")
		}
		u, err := s.loadWAUser(ctx, subject, false)
		if err != nil {
			return nil, err
		}
		user = u
		return u, nil
	}
	_, cred, err := s.wa.ValidatePasskeyLogin(handler, *sd, parsed)
	if err != nil {
		sub := ""
		if user != nil {
			sub = user.subject
		}
		return sub, fmt.Errorf("%w: %w", ErrPasskey, err)
	}
	stored := user.counts[string(cred.ID)]
	got := parsed.Response.AuthenticatorData.Counter
	if cred.Authenticator.CloneWarning || (stored != 0 || got != 0) && got <= stored {
		if _, err := s.pool.Exec(ctx, `UPDATE auth_webauthn_credentials SET clone_warnings = clone_warnings + 1 WHERE id = $1`, cred.ID); err != nil {
			s.log.ErrorContext(ctx, "record clone warning", "err", err)
		}
		return user.subject, ErrCloneWarning
	}
	raw, err := json.Marshal(cred)
	if err != nil {
		return "", fmt.Errorf("store passkey: %w", err)
	}
	// Only move the counter forward, even against a concurrent sign-in.
	tag, err := s.pool.Exec(ctx, `UPDATE auth_webauthn_credentials SET credential = $2, sign_count = $3, last_used_at = $4
		WHERE id = $1 AND (sign_count < $3 OR $3 = 0)`, cred.ID, raw, int64(cred.Authenticator.SignCount), s.now())
	if err != nil {
		return "", fmt.Errorf("store passkey: %w", err)
	}
	if tag.RowsAffected() != 1 {
		return user.subject, ErrCloneWarning
	}
	return user.subject, nil
}

// HasPasskey reports whether the member has registered a passkey.
func (s *Service) HasPasskey(ctx context.Context, memberID int64) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM auth_webauthn_credentials WHERE subject = $1)`, memberSubject(memberID)).Scan(&ok)
	return ok, err
}
