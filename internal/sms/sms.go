// Package sms sends text messages: one-time codes and personal invitation
// links (internal/auth), reminders (internal/gotv).
//
// Two implementations of [Sender] exist: [Twilio] (Twilio Programmable
// Messaging through github.com/twilio/twilio-go) and [Outbox], the local
// development outbox that keeps messages in PostgreSQL and shows them on
// /dev/outbox. Message bodies hold codes and links: they MUST NOT be
// logged, and neither may phone numbers.
package sms

import (
	"context"
	"errors"
)

// Message is one text message.
type Message struct {
	To   string // E.164, e.g. +447700900123
	Body string // MUST NOT be logged: it holds codes and links
	// StatusCallback, when set, is the URL the provider calls with
	// delivery reports (Twilio: MessageSid, MessageStatus, ErrorCode).
	StatusCallback string
}

// Sender sends a text message and returns the provider's message id.
type Sender interface {
	Send(ctx context.Context, m Message) (providerID string, err error)
}

// SenderFunc adapts a function to [Sender].
type SenderFunc func(ctx context.Context, m Message) (string, error)

// Send calls f.
func (f SenderFunc) Send(ctx context.Context, m Message) (string, error) { return f(ctx, m) }

// Sentinel errors of [Sender.Send], to test with errors.Is. None of them is
// shown to a member: sign-in pages answer generically whatever happens.
var (
	// ErrOptedOut: the recipient replied STOP (Twilio 21610). Do not retry.
	ErrOptedOut = errors.New("sms: recipient opted out")
	// ErrInvalidNumber: the number is not a valid or reachable mobile
	// (Twilio 21211, 21614, 21612, 21408). Do not retry.
	ErrInvalidNumber = errors.New("sms: invalid or unreachable number")
	// ErrRejected: the provider refused the message for another reason
	// (a 4xx answer). Do not retry without a change.
	ErrRejected = errors.New("sms: message rejected by provider")
	// ErrUnavailable: the provider could not be reached or failed (5xx,
	// 429, network). Retry later — unless the error is also ErrUncertain
	// (test ErrUncertain first).
	ErrUnavailable = errors.New("sms: provider unavailable")
	// ErrUncertain: the whole request reached the provider (or may have:
	// it was written to the connection) but no usable answer came back —
	// the client timed out, the connection broke, the context ended, or a
	// success status came with an unreadable body. The message may have
	// been accepted and may reach the member. Callers that promise "at most
	// once" MUST NOT send it again automatically.
	//
	// For callers written before it existed, an uncertain error also
	// matches ErrUnavailable (they treated a timeout as "unavailable"; the
	// reminder outbox of internal/gotv leaves those to reconciliation).
	// Test errors.Is(err, ErrUncertain) before ErrUnavailable.
	ErrUncertain = errors.New("sms: delivery uncertain (no answer after the request was sent)")
)
