package catalog

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// Limits of the free-text fields, shared by the provider's schema validators and the server.
const (
	MaxDescriptionLen = 1024
	MaxLabels         = 64
	MaxLabelKeyLen    = 63
	MaxLabelValueLen  = 256
)

// ValidateText refuses control characters (NUL among them, which PostgreSQL cannot store) in a
// one-line text field: a setting value, a label, a model id.
func ValidateText(value string) error {
	if i := strings.IndexFunc(value, unicode.IsControl); i >= 0 {
		return fmt.Errorf("it has the control character %U at byte %d; remove it", []rune(value[i:])[0], i)
	}
	return nil
}

// ValidateDescription checks free text for people: at most MaxDescriptionLen characters, and no
// control characters but newlines and tabs (a heredoc's lines).
func ValidateDescription(d string) error {
	if n := utf8.RuneCountInString(d); n > MaxDescriptionLen {
		return fmt.Errorf("description is %d characters long, more than the limit of %d; shorten it", n, MaxDescriptionLen)
	}
	if i := strings.IndexFunc(d, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }); i >= 0 {
		return fmt.Errorf("description has the control character %U at byte %d; only newlines and tabs are allowed, so remove it", []rune(d[i:])[0], i)
	}
	return nil
}

// ValidateLabels checks a labels map: at most MaxLabels entries, keys of 1 to MaxLabelKeyLen
// characters, values of at most MaxLabelValueLen, and no control characters in either.
func ValidateLabels(labels map[string]string) []api.FieldError {
	var out []api.FieldError
	if len(labels) > MaxLabels {
		out = append(out, api.FieldError{Field: "labels", Message: fmt.Sprintf("there are %d labels, more than the limit of %d; remove some.", len(labels), MaxLabels)})
		return out // one error, not one per label
	}
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		field := "labels." + k
		if n := utf8.RuneCountInString(k); n == 0 || n > MaxLabelKeyLen {
			out = append(out, api.FieldError{Field: field, Message: fmt.Sprintf("label keys must be 1 to %d characters.", MaxLabelKeyLen)})
		} else if err := ValidateText(k); err != nil {
			// The key cannot name the field: the path would carry the very character refused.
			out = append(out, api.FieldError{Field: "labels", Message: fmt.Sprintf("the label key %q: %v.", k, err)})
			continue
		}
		if utf8.RuneCountInString(labels[k]) > MaxLabelValueLen {
			out = append(out, api.FieldError{Field: field, Message: fmt.Sprintf("label values must be at most %d characters.", MaxLabelValueLen)})
		} else if err := ValidateText(labels[k]); err != nil {
			out = append(out, api.FieldError{Field: field, Message: "the label value: " + err.Error() + "."})
		}
	}
	return out
}
