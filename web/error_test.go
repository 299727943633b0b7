package web

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/citybot-project/citybot/errs"
)

func TestErrorMapsKindsToStatuses(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		body   string
		logged bool
	}{
		{errs.New(errs.NotFound, "no such conversation"), 404, "no such conversation\n", false},
		{errs.New(errs.Invalid, "text too long"), 400, "text too long\n", false},
		{errs.New(errs.Conflict, "already rated"), 409, "already rated\n", false},
		{errs.New(errs.Unauthorized, "sign in first"), 401, "sign in first\n", false},
		{errs.Wrap(errs.Unavailable, errors.New("dial tcp 10.0.0.5:5432"), "database unavailable"), 503, "database unavailable\n", false},
		{errs.Wrap(errs.Internal, errors.New("syntax error at or near"), "store answer"), 500, "internal error\n", true},
		{errors.New("pq: relation missing"), 500, "internal error\n", true},
		// Wrapped on the way up, the kind still counts.
		{fmt.Errorf("rate answer 7: %w", errs.New(errs.NotFound, "no such answer")), 404, "no such answer\n", false},
		{&errs.Error{Message: "kind forgotten"}, 500, "internal error\n", true},
	} {
		var log bytes.Buffer
		w := httptest.NewRecorder()
		Error(w, httptest.NewRequest("POST", "/x?token=abc", nil), slog.New(slog.NewTextHandler(&log, nil)), tc.err)
		if w.Code != tc.status || w.Body.String() != tc.body || w.Header().Get("Content-Type") != "text/plain; charset=utf-8" {
			t.Errorf("%v: %d %q %v, want %d %q", tc.err, w.Code, w.Body, w.Header(), tc.status, tc.body)
		}
		if logged := log.Len() > 0; logged != tc.logged {
			t.Errorf("%v: logged %v, want %v: %s", tc.err, logged, tc.logged, log.String())
		}
		if tc.logged && (!strings.Contains(log.String(), tc.err.Error()) || !strings.Contains(log.String(), "path=/x ") ||
			strings.Contains(log.String(), "abc")) {
			t.Errorf("log of %v: %s", tc.err, log.String())
		}
	}
}

func TestStatusOfEveryKind(t *testing.T) {
	for _, k := range []errs.Kind{errs.NotFound, errs.Invalid, errs.Conflict, errs.Unauthorized, errs.Unavailable, errs.Internal} {
		if s := Status(k); s < 400 || http.StatusText(s) == "" {
			t.Errorf("%s: status %d", k, s)
		}
	}
	if Status("made_up") != http.StatusInternalServerError {
		t.Error("an unknown kind is not internal")
	}
}
