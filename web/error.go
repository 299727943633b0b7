package web

import (
	"log/slog"
	"net/http"

	"github.com/citybot-project/citybot/errs"
)

// statuses maps each kind of error to its HTTP status: the one place where that is decided.
var statuses = map[errs.Kind]int{
	errs.NotFound:     http.StatusNotFound,
	errs.Invalid:      http.StatusBadRequest,
	errs.Conflict:     http.StatusConflict,
	errs.Unauthorized: http.StatusUnauthorized,
	errs.Unavailable:  http.StatusServiceUnavailable,
	errs.Internal:     http.StatusInternalServerError,
}

// Status is the HTTP status of an error of kind.
func Status(kind errs.Kind) int {
	if s, ok := statuses[kind]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Error answers a request that failed with err: the status of its kind and its message as
// plain text. An internal error is logged, with the request's method and path, and the client
// gets a generic message: its text may hold details that are nobody's business outside.
func Error(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	kind := errs.KindOf(err)
	if kind == errs.Internal {
		log.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	http.Error(w, errs.MessageOf(err), Status(kind))
}

// HandlerFunc is a handler that leaves its error to the edge: Routes answers it with Error.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle turns h into a plain handler that answers h's error with Error.
func handle(log *slog.Logger, h HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			Error(w, r, log, err)
		}
	}
}
