package errs

import (
	"errors"
	"fmt"
	"testing"
)

func TestKindAndMessageThroughWrapping(t *testing.T) {
	cause := errors.New("no rows in result set")
	err := fmt.Errorf("rate answer 7: %w", Wrap(NotFound, cause, "no such answer"))
	if KindOf(err) != NotFound || MessageOf(err) != "no such answer" || !errors.Is(err, cause) {
		t.Errorf("kind %q, message %q, is cause %v", KindOf(err), MessageOf(err), errors.Is(err, cause))
	}
	if err.Error() != "rate answer 7: no such answer: no rows in result set" {
		t.Errorf("text %q", err)
	}
	for _, err := range []error{errors.New("connection reset"), Wrap(Internal, cause, "store answer"), &Error{Message: "no kind"}} {
		if KindOf(err) != Internal || MessageOf(err) != "internal error" {
			t.Errorf("%v: kind %q, message %q", err, KindOf(err), MessageOf(err))
		}
	}
	if KindOf(nil) != "" {
		t.Error("nil has a kind")
	}
}
