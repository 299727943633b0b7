// Package errs gives errors a kind that the edges map once: web to an HTTP status, the chat to
// a protocol error code. Internal code returns them; only the edges look at the kind.
package errs

import "errors"

// Kind is what went wrong, in terms a client can act on.
type Kind string

// The kinds. An error without one is Internal.
const (
	NotFound     Kind = "not_found"    // the thing asked for does not exist
	Invalid      Kind = "invalid"      // the request is malformed or breaks a rule
	Conflict     Kind = "conflict"     // the request contradicts the current state
	Unauthorized Kind = "unauthorized" // the caller is not known, or may not do this
	Unavailable  Kind = "unavailable"  // a dependency does not answer; trying later may work
	Internal     Kind = "internal"     // a bug or an unexpected failure: logged, never shown
)

// Error is an error with a kind and a message fit for the client; its cause, if any, is for
// the log only.
type Error struct {
	Kind    Kind
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// New is an error of kind with message.
func New(kind Kind, message string) error { return &Error{Kind: kind, Message: message} }

// Wrap is an error of kind with message, caused by err.
func Wrap(kind Kind, err error, message string) error {
	return &Error{Kind: kind, Message: message, Err: err}
}

// KindOf is the kind of the first *Error in err's chain; Internal when there is none, and ""
// for nil.
func KindOf(err error) Kind {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) && e.Kind != "" {
		return e.Kind
	}
	return Internal
}

// MessageOf is the message for the client: the first *Error's, and for an internal error a
// generic one, since its text may hold details the client must not see.
func MessageOf(err error) string {
	var e *Error
	if KindOf(err) == Internal || !errors.As(err, &e) {
		return "internal error"
	}
	return e.Message
}
