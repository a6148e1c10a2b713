package server

import (
	"net/http"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
)

// problemType gives every status a stable type URI, so clients can branch on it.
func problemType(status int) string {
	switch status {
	case http.StatusUnprocessableEntity:
		return "https://modelkeys.dev/problems/validation"
	case http.StatusConflict:
		return "https://modelkeys.dev/problems/conflict"
	case http.StatusPreconditionFailed:
		return "https://modelkeys.dev/problems/precondition-failed"
	case http.StatusPreconditionRequired:
		return "https://modelkeys.dev/problems/precondition-required"
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

// problemOf is e in its wire form, an RFC 9457 problem document.
func problemOf(e *service.Error) api.Problem {
	return api.Problem{
		Type:      problemType(e.Status),
		Title:     e.Title,
		Status:    e.Status,
		Detail:    e.Detail,
		Errors:    e.Fields,
		Conflicts: e.Conflicts,
	}
}

// badRequest is a request the HTTP layer cannot read: a malformed header, query parameter or body.
func badRequest(detail string) *service.Error {
	return &service.Error{Status: http.StatusBadRequest, Title: "Bad request", Detail: detail}
}
