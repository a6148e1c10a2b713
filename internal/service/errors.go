package service

import (
	"errors"
	"fmt"
	"strings"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// Error is a failure the caller is told about. Status is the HTTP status code that stands for its
// kind (the API's, and what the console shows); the HTTP layer turns it into an RFC 9457 problem
// document. Messages never hold secret values.
type Error struct {
	Status    int
	Title     string
	Detail    string
	Fields    []api.FieldError
	Conflicts []string
}

// The kinds of Error, as HTTP status codes; this package does not import net/http.
const (
	StatusBadRequest           = 400
	StatusUnauthorized         = 401
	StatusForbidden            = 403
	StatusNotFound             = 404
	StatusConflict             = 409
	StatusPreconditionFailed   = 412
	StatusPreconditionRequired = 428
	StatusUnprocessable        = 422
	StatusTooManyRequests      = 429
	StatusInternal             = 500
	StatusUnavailable          = 503
)

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

// AsError finds an *Error in err's chain.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

func invalid(fields ...api.FieldError) *Error {
	detail := "The request has invalid fields; see errors."
	if len(fields) == 1 {
		detail = fields[0].Field + ": " + fields[0].Message
	}
	return &Error{Status: StatusUnprocessable, Title: "Validation failed", Detail: detail, Fields: fields}
}

// InvalidField is a 422 on one field of the request: the service's rules and the HTTP layer's
// decoding (a field of the wrong type, an unknown field) answer the same way.
func InvalidField(field, format string, args ...any) *Error {
	return invalid(api.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

func notFound(kind, id string) *Error {
	return &Error{Status: StatusNotFound, Title: "Not found", Detail: fmt.Sprintf("%s %q does not exist in this organisation.", kind, id)}
}

func conflict(detail string, ids ...string) *Error {
	return &Error{Status: StatusConflict, Title: "Conflict", Detail: detail, Conflicts: ids}
}

func preconditionFailed(kind, id string, want, have int64) *Error {
	return &Error{Status: StatusPreconditionFailed, Title: "Precondition failed",
		Detail: fmt.Sprintf("%s %q is at version %d, not %d: it changed since you read it. Read it again and retry.", kind, id, have, want)}
}

// lostRace is the 412 of a write that another writer overtook between its read and its write.
func lostRace(kind, id string) *Error {
	return &Error{Status: StatusPreconditionFailed, Title: "Precondition failed",
		Detail: fmt.Sprintf("%s %q changed while this request was being applied. Read it again and retry.", kind, id)}
}

func forbidden(detail string) *Error {
	return &Error{Status: StatusForbidden, Title: "Forbidden", Detail: detail}
}

func unauthorized(detail string) *Error {
	return &Error{Status: StatusUnauthorized, Title: "Unauthorized", Detail: detail}
}
