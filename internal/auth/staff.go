package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/unionvote/eballot/internal/audit"
	"github.com/unionvote/eballot/internal/sms"
)

const (
	enrolTTL    = 24 * time.Hour
	recoveryTTL = 24 * time.Hour
)

// StaffInput describes a new staff account.
type StaffInput struct {
	Role    Role
	UnionID int64  // organisers and volunteers only
	Name    string // shown to other staff
	Mobile  string // E.164, for recovery codes only
}

// CreateStaff adds a staff account and returns it with a one-time
// enrolment link (valid 24 h) with which they register their first
// passkey. Deliver the link out of band.
func (s *Service) CreateStaff(ctx context.Context, in StaffInput) (StaffIdentity, string, error) {
	var union, mobile any
	if in.Role.ofUnion() {
		union = in.UnionID
	}
	if in.Mobile != "" {
		mobile = in.Mobile
	}
	var id int64
	if err := s.pool.QueryRow(ctx, `INSERT INTO staff (role, union_id, name, mobile, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		string(in.Role), union, in.Name, mobile, s.now()).Scan(&id); err != nil {
		return StaffIdentity{}, "", fmt.Errorf("create staff: %w", err)
	}
	link, err := s.issueEnrolment(ctx, id)
	if err != nil {
		return StaffIdentity{}, "", err
	}
	st := StaffIdentity{ID: id, Role: in.Role, Name: in.Name}
	if in.Role.ofUnion() {
		st.UnionID = in.UnionID
	}
	s.audit(ctx, "staff_created", "ok", 0, id, 0)
	return st, link, nil
}

// ofUnion reports whether accounts of the role belong to one union.
func (r Role) ofUnion() bool { return r == RoleOrganiser || r == RoleVolunteer }

func (s *Service) issueEnrolment(ctx context.Context, staffID int64) (string, error) {
	tok := base64.RawURLEncoding.EncodeToString(s.randBytes(32))
	now := s.now()
	if _, err := s.pool.Exec(ctx, `INSERT INTO auth_staff_enrolments (token_hash, staff_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		sha([]byte(tok)), staffID, now, now.Add(enrolTTL)); err != nil {
		return "", fmt.Errorf("issue enrolment: %w", err)
	}
	return s.origin + "/staff/enrol/" + tok, nil
}

// redeemEnrolment uses an enrolment token once and returns its staff id.
func (s *Service) redeemEnrolment(ctx context.Context, token string) (int64, error) {
	if !validToken(token) {
		return 0, ErrInvalidLink
	}
	now := s.now()
	var id int64
	err := s.pool.QueryRow(ctx, `UPDATE auth_staff_enrolments e SET used_at = $2 FROM staff st
		WHERE e.token_hash = $1 AND e.used_at IS NULL AND e.expires_at > $2 AND st.id = e.staff_id AND st.disabled_at IS NULL
		RETURNING e.staff_id`, sha([]byte(token)), now).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, ErrInvalidLink
	}
	if err != nil {
		return 0, fmt.Errorf("redeem enrolment: %w", err)
	}
	return id, nil
}

func (s *Service) staffByID(ctx context.Context, id int64) (StaffIdentity, string, error) {
	var st StaffIdentity
	var role string
	var union *int64
	var mobile *string
	err := s.pool.QueryRow(ctx, `SELECT id, role, union_id, name, mobile FROM staff WHERE id = $1 AND disabled_at IS NULL`, id).
		Scan(&st.ID, &role, &union, &st.Name, &mobile)
	if err != nil {
		return st, "", err
	}
	st.Role = Role(role)
	if union != nil {
		st.UnionID = *union
	}
	m := ""
	if mobile != nil {
		m = *mobile
	}
	return st, m, nil
}

// StartStaffRecovery texts a recovery code to the staff member's mobile
// on record (nothing, silently, if there is none or the account is
// unknown). *RateLimitError after 3 codes in an hour.
func (s *Service) StartStaffRecovery(ctx context.Context, staffID int64) error {
	_, mobile, err := s.staffByID(ctx, staffID)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("start recovery: %w", err)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	s.audit(ctx, "staff_recovery", "code_sent", 0, staffID, 0)
	_, err = s.sendCode(ctx, staffSubject(staffID), "staff_recovery", codeDest{channel: channelSMS, to: mobile, lang: "en"})
	return err
}

// ConfirmStaffRecovery checks the recovery code and opens a recovery
// request, which a different staff member must approve
// ([Service.ApproveStaffRecovery]). Older open requests of the same staff
// member are closed (refused, with no approver): only the newest can be
// approved. The request is recorded in the hash-chained audit log.
func (s *Service) ConfirmStaffRecovery(ctx context.Context, staffID int64, code string) (int64, error) {
	if err := s.verifyCode(ctx, staffSubject(staffID), "staff_recovery", code); err != nil {
		s.audit(ctx, "staff_recovery", "bad_code", 0, staffID, 0)
		return 0, err
	}
	st, _, err := s.staffByID(ctx, staffID)
	if err != nil {
		return 0, fmt.Errorf("confirm recovery: %w", err)
	}
	now := s.now()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("confirm recovery: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `UPDATE auth_staff_recoveries SET decided_at = $2, approved = false WHERE staff_id = $1 AND decided_at IS NULL`,
		staffID, now); err != nil {
		return 0, fmt.Errorf("confirm recovery: %w", err)
	}
	var id int64
	if err := tx.QueryRow(ctx, `INSERT INTO auth_staff_recoveries (staff_id, requested_at, expires_at) VALUES ($1, $2, $3) RETURNING id`,
		staffID, now, now.Add(recoveryTTL)).Scan(&id); err != nil {
		return 0, fmt.Errorf("confirm recovery: %w", err)
	}
	if err := audit.Append(ctx, tx, st.actor(), "staff.recovery_requested", nil, map[string]int64{"recovery": id}); err != nil {
		return 0, fmt.Errorf("confirm recovery: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("confirm recovery: %w", err)
	}
	s.audit(ctx, "staff_recovery", "requested", 0, staffID, 0)
	return id, nil
}

// actor names a staff member in the audit log ("organiser:12").
func (st StaffIdentity) actor() string { return fmt.Sprintf("%s:%d", st.Role, st.ID) }

// ApproveStaffRecovery is the second staff member's approval. The
// approver must be a different, active staff member: for an organiser's
// recovery an organiser of the same union or a scrutineer; for a
// scrutineer's, another scrutineer. On approval the requester's passkeys
// are removed (the lost device must not keep working) and a one-time
// enrolment link is texted to the requester and returned.
func (s *Service) ApproveStaffRecovery(ctx context.Context, recoveryID int64, approver StaffIdentity) (string, error) {
	return s.decideRecovery(ctx, recoveryID, approver, true)
}

// DenyStaffRecovery refuses a recovery request (same rules as approval).
func (s *Service) DenyStaffRecovery(ctx context.Context, recoveryID int64, approver StaffIdentity) error {
	_, err := s.decideRecovery(ctx, recoveryID, approver, false)
	return err
}

func (s *Service) decideRecovery(ctx context.Context, recoveryID int64, approver StaffIdentity, approve bool) (string, error) {
	now := s.now()
	var staffID int64
	var expires time.Time
	var decided *time.Time
	err := s.pool.QueryRow(ctx, `SELECT staff_id, expires_at, decided_at FROM auth_staff_recoveries WHERE id = $1`, recoveryID).Scan(&staffID, &expires, &decided)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && (decided != nil || !expires.After(now))) {
		return "", fmt.Errorf("decide recovery: %w", ErrInvalidLink)
	}
	if err != nil {
		return "", fmt.Errorf("decide recovery: %w", err)
	}
	requester, mobile, err := s.staffByID(ctx, staffID)
	if err != nil {
		return "", fmt.Errorf("decide recovery: %w", ErrInvalidLink)
	}
	appr, _, err := s.staffByID(ctx, approver.ID) // re-read: role and status now
	if err != nil || appr.ID == requester.ID || !mayApprove(appr, requester) {
		s.audit(ctx, "staff_recovery", "approval_refused", 0, approver.ID, 0)
		return "", ErrNotAllowed
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return "", fmt.Errorf("decide recovery: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	tag, err := tx.Exec(ctx, `UPDATE auth_staff_recoveries SET approved_by = $2, decided_at = $3, approved = $4 WHERE id = $1 AND decided_at IS NULL`,
		recoveryID, appr.ID, now, approve)
	if err != nil {
		return "", fmt.Errorf("decide recovery: %w", err)
	}
	if tag.RowsAffected() != 1 {
		return "", fmt.Errorf("decide recovery: %w", ErrInvalidLink)
	}
	action := "staff.recovery_denied"
	if approve {
		action = "staff.recovery_approved"
	}
	if err := audit.Append(ctx, tx, appr.actor(), action, nil, map[string]int64{"recovery": recoveryID, "staff": staffID}); err != nil {
		return "", fmt.Errorf("decide recovery: %w", err)
	}
	if approve {
		if _, err := tx.Exec(ctx, `DELETE FROM auth_webauthn_credentials WHERE subject = $1`, staffSubject(staffID)); err != nil {
			return "", fmt.Errorf("decide recovery: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM auth_sessions WHERE staff_id = $1`, staffID); err != nil {
			return "", fmt.Errorf("decide recovery: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return "", fmt.Errorf("decide recovery: %w", err)
	}
	if !approve {
		s.audit(ctx, "staff_recovery", "denied", 0, staffID, 0)
		s.audit(ctx, "staff_recovery_decision", "denied", 0, appr.ID, 0)
		return "", nil
	}
	s.audit(ctx, "staff_recovery", "approved", 0, staffID, 0)
	s.audit(ctx, "staff_recovery_decision", "approved", 0, appr.ID, 0)
	link, err := s.issueEnrolment(ctx, staffID)
	if err != nil {
		return "", err
	}
	if mobile != "" {
		if _, err := s.sms.Send(ctx, sms.Message{To: mobile, Body: "Union e-ballot: your account recovery was approved. Add a new passkey with this link (valid 24 hours): " + link}); err != nil {
			s.log.WarnContext(ctx, "recovery link text not sent", "staff_id", staffID, "err", err)
		}
	}
	return link, nil
}

func mayApprove(approver, requester StaffIdentity) bool {
	switch requester.Role {
	case RoleOrganiser:
		return approver.Role == RoleScrutineer || (approver.Role == RoleOrganiser && approver.UnionID == requester.UnionID)
	case RoleScrutineer:
		return approver.Role == RoleScrutineer
	case RoleVolunteer:
		// A volunteer's fallback sign-in (SMS code) is approved by an
		// organiser of their union (docs/volunteers.md).
		return approver.Role == RoleOrganiser && approver.UnionID == requester.UnionID
	case RolePresidingOfficer:
		// The scrutineer appointed them (docs/paper.md).
		return approver.Role == RoleScrutineer
	}
	return false
}

// StaffRecovery is an open recovery request, as a possible approver sees
// it.
type StaffRecovery struct {
	ID                     int64
	Staff                  StaffIdentity // the staff member who lost their passkey
	Union                  string        // their union's name (organisers)
	RequestedAt, ExpiresAt time.Time
}

// PendingStaffRecoveries lists the open (undecided, unexpired) recovery
// requests that approver may decide: never their own; an organiser's to
// organisers of the same union and to scrutineers; a scrutineer's to
// other scrutineers; a volunteer's to organisers of their union.
func (s *Service) PendingStaffRecoveries(ctx context.Context, approver StaffIdentity) ([]StaffRecovery, error) {
	rows, err := s.pool.Query(ctx, `SELECT r.id, r.requested_at, r.expires_at, st.id, st.role, coalesce(st.union_id, 0), st.name
		FROM auth_staff_recoveries r JOIN staff st ON st.id = r.staff_id AND st.disabled_at IS NULL
		WHERE r.decided_at IS NULL AND r.expires_at > $1 ORDER BY r.requested_at, r.id`, s.now())
	if err != nil {
		return nil, fmt.Errorf("pending recoveries: %w", err)
	}
	defer rows.Close()
	var out []StaffRecovery
	for rows.Next() {
		var x StaffRecovery
		var role string
		if err := rows.Scan(&x.ID, &x.RequestedAt, &x.ExpiresAt, &x.Staff.ID, &role, &x.Staff.UnionID, &x.Staff.Name); err != nil {
			return nil, fmt.Errorf("pending recoveries: %w", err)
		}
		x.Staff.Role = Role(role)
		if x.Staff.ID != approver.ID && mayApprove(approver, x.Staff) {
			out = append(out, x)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pending recoveries: %w", err)
	}
	var unionIDs []int64
	for _, x := range out {
		if x.Staff.UnionID != 0 {
			unionIDs = append(unionIDs, x.Staff.UnionID)
		}
	}
	if len(unionIDs) > 0 {
		unions, err := s.ballots.UnionLabels(ctx, unionIDs)
		if err != nil {
			return nil, fmt.Errorf("pending recoveries: %w", err)
		}
		for i := range out {
			out[i].Union = unions[out[i].Staff.UnionID].Name
		}
	}
	return out, nil
}

// staffByMobile finds the one active staff account with this mobile
// (E.164); 0 when none or several share it.
func (s *Service) staffByMobile(ctx context.Context, mobile string) (int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT id FROM staff WHERE mobile = $1 AND disabled_at IS NULL LIMIT 2`, mobile)
	if err != nil {
		return 0, fmt.Errorf("staff by mobile: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, fmt.Errorf("staff by mobile: %w", err)
	}
	if len(ids) != 1 {
		return 0, nil
	}
	return ids[0], nil
}

// ActiveScrutineer reports whether the staff account is an active
// scrutineer's.
func (s *Service) ActiveScrutineer(ctx context.Context, staffID int64) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT role = 'scrutineer' AND disabled_at IS NULL FROM staff WHERE id = $1`, staffID).Scan(&ok)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read staff: %w", err)
	}
	return ok, nil
}

// StaffNames gives the names of the staff accounts.
func (s *Service) StaffNames(ctx context.Context, ids []int64) (map[int64]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, name FROM staff WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("read staff names: %w", err)
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, fmt.Errorf("read staff names: %w", err)
		}
		out[id] = name
	}
	return out, rows.Err()
}

// ScrutineerMobiles gives the active scrutineer accounts and their
// mobiles ("" none): the s.231B report reminders go to them
// (internal/result).
func (s *Service) ScrutineerMobiles(ctx context.Context) (map[int64]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, coalesce(mobile, '') FROM staff WHERE role = 'scrutineer' AND disabled_at IS NULL`)
	if err != nil {
		return nil, fmt.Errorf("read scrutineers: %w", err)
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var id int64
		var m string
		if err := rows.Scan(&id, &m); err != nil {
			return nil, fmt.Errorf("read scrutineers: %w", err)
		}
		out[id] = m
	}
	return out, rows.Err()
}

// ErrNoStaff: no staff account has that number.
var ErrNoStaff = errors.New("auth: no staff account with that number")

// DisableStaff ends a staff account for good: it can no longer sign in,
// enrol a passkey or recover one, and its sessions end at once. It
// reports false when the account was disabled already.
func (s *Service) DisableStaff(ctx context.Context, id int64) (bool, error) {
	n, err := s.disable(ctx, `id = $1`, id)
	if err != nil {
		return false, err
	}
	if len(n) == 0 {
		var exists bool
		if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM staff WHERE id = $1)`, id).Scan(&exists); err != nil {
			return false, fmt.Errorf("disable staff: %w", err)
		}
		if !exists {
			return false, ErrNoStaff
		}
	}
	return len(n) == 1, nil
}

// DisableOfficers disables the presiding officers' accounts among ids
// (other roles are left alone) and returns the ones it disabled now.
func (s *Service) DisableOfficers(ctx context.Context, ids []int64) ([]int64, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return s.disable(ctx, `id = ANY($1) AND role = 'presiding_officer'`, ids)
}

// disable sets disabled_at on the accounts matching where (with arg),
// ends their sessions and audits each, in one transaction.
func (s *Service) disable(ctx context.Context, where string, arg any) ([]int64, error) {
	var ids []int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE staff SET disabled_at = $2 WHERE `+where+` AND disabled_at IS NULL RETURNING id`, arg, s.now())
		if err != nil {
			return err
		}
		if ids, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM auth_sessions WHERE staff_id = ANY($1)`, ids)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("disable staff: %w", err)
	}
	for _, id := range ids {
		s.audit(ctx, "staff_disabled", "ok", 0, id, 0)
	}
	return ids, nil
}
