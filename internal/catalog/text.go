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

// ValidateText refuses what no one-line text field may hold (a setting value, a label, a model id,
// an id in a URL): bytes that are not UTF-8, control characters (NUL among them, which PostgreSQL
// cannot store) and format characters (Unicode category Cf: bidirectional overrides and isolates,
// zero-width spaces and joiners, the byte-order mark), which are invisible or reorder the text around
// them, so that a value could read differently in the console or the audit log than it is.
func ValidateText(value string) error {
	if err := checkText(value, func(rune) bool { return false }); err != nil {
		return fmt.Errorf("it %w", err)
	}
	return nil
}

// ValidateDescription checks free text for people: at most MaxDescriptionLen characters, and none
// of what ValidateText refuses but newlines and tabs (a heredoc's lines) and the zero-width joiner and
// non-joiner (U+200D, U+200C), which some scripts and emoji sequences need.
func ValidateDescription(d string) error {
	if n := utf8.RuneCountInString(d); n > MaxDescriptionLen {
		return fmt.Errorf("description is %d characters long, more than the limit of %d; shorten it", n, MaxDescriptionLen)
	}
	if err := checkText(d, func(r rune) bool { return r == '\n' || r == '\t' || r == 0x200C || r == 0x200D }); err != nil {
		return fmt.Errorf("description %w", err)
	}
	return nil
}

// checkText is the one rule behind ValidateText and ValidateDescription; allowed lets a field keep
// some characters the rule would refuse.
func checkText(value string, allowed func(rune) bool) error {
	for i, r := range value {
		switch {
		case r == utf8.RuneError && !isEncodedRuneError(value[i:]):
			return fmt.Errorf("is not valid UTF-8 (byte %d is 0x%02X); send text encoded as UTF-8", i, value[i])
		case allowed(r):
		case unicode.IsControl(r):
			return fmt.Errorf("has the control character %U at byte %d; remove it", r, i)
		case unicode.Is(unicode.Cf, r):
			return fmt.Errorf("has the invisible format character %s at byte %d; remove it", RuneName(r), i)
		}
	}
	return nil
}

// isEncodedRuneError reports whether s starts with U+FFFD itself, well encoded, rather than a byte
// that is not UTF-8 (for which range yields U+FFFD too).
func isEncodedRuneError(s string) bool { return strings.HasPrefix(s, "\uFFFD") }

// RuneName is a character's code point and, for the format characters people meet, its Unicode name:
// "U+202E RIGHT-TO-LEFT OVERRIDE".
func RuneName(r rune) string {
	if name, ok := formatNames[r]; ok {
		return fmt.Sprintf("%U %s", r, name)
	}
	return fmt.Sprintf("%U", r)
}

// formatNames names the format characters (category Cf) that spoof text; others are named by code point.
var formatNames = map[rune]string{
	0x00AD: "SOFT HYPHEN",
	0x061C: "ARABIC LETTER MARK",
	0x180E: "MONGOLIAN VOWEL SEPARATOR",
	0x200B: "ZERO WIDTH SPACE",
	0x200C: "ZERO WIDTH NON-JOINER",
	0x200D: "ZERO WIDTH JOINER",
	0x200E: "LEFT-TO-RIGHT MARK",
	0x200F: "RIGHT-TO-LEFT MARK",
	0x202A: "LEFT-TO-RIGHT EMBEDDING",
	0x202B: "RIGHT-TO-LEFT EMBEDDING",
	0x202C: "POP DIRECTIONAL FORMATTING",
	0x202D: "LEFT-TO-RIGHT OVERRIDE",
	0x202E: "RIGHT-TO-LEFT OVERRIDE",
	0x2060: "WORD JOINER",
	0x2061: "FUNCTION APPLICATION",
	0x2062: "INVISIBLE TIMES",
	0x2063: "INVISIBLE SEPARATOR",
	0x2064: "INVISIBLE PLUS",
	0x2066: "LEFT-TO-RIGHT ISOLATE",
	0x2067: "RIGHT-TO-LEFT ISOLATE",
	0x2068: "FIRST STRONG ISOLATE",
	0x2069: "POP DIRECTIONAL ISOLATE",
	0xFEFF: "ZERO WIDTH NO-BREAK SPACE (byte-order mark)",
	0xFFF9: "INTERLINEAR ANNOTATION ANCHOR",
	0xFFFA: "INTERLINEAR ANNOTATION SEPARATOR",
	0xFFFB: "INTERLINEAR ANNOTATION TERMINATOR",
}

// ValidateLabels checks a labels map: at most MaxLabels entries, keys of 1 to MaxLabelKeyLen
// characters, values of at most MaxLabelValueLen, and nothing ValidateText refuses in either.
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
