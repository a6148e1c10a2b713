package catalog

import (
	"strings"
	"testing"
)

// TestTextRefusesInvalidUTF8AndFormatCharacters: bytes that are not UTF-8 and invisible format
// characters (category Cf) are refused in every text field, as control characters are, with a message
// naming the character, so that a value cannot read differently in the console or audit log than it is.
func TestTextRefusesInvalidUTF8AndFormatCharacters(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"a\xffb", "not valid UTF-8 (byte 1 is 0xFF)"},
		{"\xc3", "not valid UTF-8"},
		{"ed\xed\xa0\x80", "not valid UTF-8"}, // a UTF-16 surrogate encoded as UTF-8
		{"invoice\u202Efdp.exe", "U+202E RIGHT-TO-LEFT OVERRIDE"},
		{"team\u200Ba", "U+200B ZERO WIDTH SPACE"},
		{"\u2066x\u2069", "U+2066 LEFT-TO-RIGHT ISOLATE"},
		{"\uFEFFprod", "U+FEFF"},
		{"x\u00ADy", "U+00AD SOFT HYPHEN"},
		{"tag\U000E0041", "U+E0041"},
		{"bell\a", "control character U+0007"},
	} {
		err := ValidateText(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ValidateText(%q) = %v, want an error containing %q", c.in, err, c.want)
		}
		err = ValidateDescription(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ValidateDescription(%q) = %v, want an error containing %q", c.in, err, c.want)
		}
		if errs := ValidateLabels(map[string]string{"team": c.in}); len(errs) != 1 || errs[0].Field != "labels.team" || !strings.Contains(errs[0].Message, c.want) {
			t.Errorf("a label value %q: %+v, want one error on labels.team containing %q", c.in, errs, c.want)
		}
	}
	// What people write stays allowed: other scripts, emoji, U+FFFD itself; in a description newlines,
	// tabs and the joiners that some scripts and emoji sequences need.
	for _, ok := range []string{"équipe données", "مفتاح", "キー", "🔑", "\uFFFD"} {
		if err := ValidateText(ok); err != nil {
			t.Errorf("ValidateText(%q) = %v, want nil", ok, err)
		}
	}
	for _, ok := range []string{"line one\nline\ttwo", "می\u200Cخواهم", "👩\u200D💻"} {
		if err := ValidateDescription(ok); err != nil {
			t.Errorf("ValidateDescription(%q) = %v, want nil", ok, err)
		}
	}
	if err := ValidateText("👩\u200D💻"); err == nil || !strings.Contains(err.Error(), "U+200D ZERO WIDTH JOINER") {
		t.Errorf("a joiner in a one-line field: %v, want it refused", err)
	}
}
