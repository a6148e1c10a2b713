package server

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// Error is a failure the API reports to its caller. The service returns it; the HTTP layer turns it into
// an RFC 9457 problem document. Messages never hold secret values.
type Error struct {
	Status    int
	Title     string
	Detail    string
	Fields    []api.FieldError
	Conflicts []string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Title)
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	for _, f := range e.Fields {
		fmt.Fprintf(&b, "; %s: %s", f.Field, f.Message)
	}
	return b.String()
}

// problemType gives every status a stable type URI, so clients can branch on it.
func problemType(status int) string {
	switch status {
	case http.StatusUnprocessableEntity:
		return "https://modelkeys.dev/problems/validation"
	case http.StatusConflict:
		return "https://modelkeys.dev/problems/conflict"
	case http.StatusPreconditionFailed:
		return "https://modelkeys.dev/problems/precondition-failed"
	case http.StatusNotFound:
		return "https://modelkeys.dev/problems/not-found"
	case http.StatusUnauthorized:
		return "https://modelkeys.dev/problems/unauthorized"
	case http.StatusForbidden:
		return "https://modelkeys.dev/problems/forbidden"
	case http.StatusTooManyRequests:
		return "https://modelkeys.dev/problems/rate-limited"
	}
	return "about:blank"
}

// Problem converts e to its wire form.
func (e *Error) Problem() api.Problem {
	return api.Problem{
		Type:      problemType(e.Status),
		Title:     e.Title,
		Status:    e.Status,
		Detail:    e.Detail,
		Errors:    e.Fields,
		Conflicts: e.Conflicts,
	}
}

func invalid(fields ...api.FieldError) *Error {
	detail := "The request has invalid fields; see errors."
	if len(fields) == 1 {
		detail = fields[0].Field + ": " + fields[0].Message
	}
	return &Error{Status: http.StatusUnprocessableEntity, Title: "Validation failed", Detail: detail, Fields: fields}
}

func invalidField(field, format string, args ...any) *Error {
	return invalid(api.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

func notFound(kind, id string) *Error {
	return &Error{Status: http.StatusNotFound, Title: "Not found", Detail: fmt.Sprintf("%s %q does not exist in this organisation.", kind, id)}
}

func conflict(detail string, ids ...string) *Error {
	return &Error{Status: http.StatusConflict, Title: "Conflict", Detail: detail, Conflicts: ids}
}

func preconditionFailed(kind, id string, want, have int64) *Error {
	return &Error{Status: http.StatusPreconditionFailed, Title: "Precondition failed",
		Detail: fmt.Sprintf("%s %q is at version %d, not %d: it changed since you read it. Read it again and retry.", kind, id, have, want)}
}

// lostRace is the 412 of a write that another writer overtook between its read and its write.
func lostRace(kind, id string) *Error {
	return &Error{Status: http.StatusPreconditionFailed, Title: "Precondition failed",
		Detail: fmt.Sprintf("%s %q changed while this request was being applied. Read it again and retry.", kind, id)}
}

func badRequest(detail string) *Error {
	return &Error{Status: http.StatusBadRequest, Title: "Bad request", Detail: detail}
}

func forbidden(detail string) *Error {
	return &Error{Status: http.StatusForbidden, Title: "Forbidden", Detail: detail}
}

// asError finds an *Error in err's chain.
func asError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
