package catalog

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Day is the unit of the "d" suffix of durations (rotation_period, max_rotation_period,
// expiry_warning): 24 hours, whatever the calendar does.
const Day = 24 * time.Hour

// MaxDuration bounds every lifecycle duration: ten years is longer than any key should live.
const MaxDuration = 3650 * Day

// DefaultExpiryWarning is how long before expires_at a credential turns "expiring" when no credential
// policy sets expiry_warning.
const DefaultExpiryWarning = 14 * Day

// ParseDuration reads a lifecycle duration: a Go duration ("2160h", "36h30m") or a whole number of
// days with the suffix d ("90d"), optionally followed by a Go duration ("1d12h"). It must be positive
// and at most ten years. It is the one rule for durations: the Terraform provider checks
// configurations with it at plan time and the server checks requests with it.
func ParseDuration(s string) (time.Duration, error) {
	text := strings.TrimSpace(s)
	if text == "" {
		return 0, fmt.Errorf("a duration is required, such as \"90d\" or \"2160h\"")
	}
	if text != s {
		return 0, fmt.Errorf("%q has spaces around it; write the duration alone, such as \"90d\"", s)
	}
	var d time.Duration
	rest := text
	if i := strings.IndexByte(text, 'd'); i > 0 {
		days, err := strconv.ParseUint(text[:i], 10, 32)
		if err != nil {
			return 0, badDuration(s)
		}
		if days > uint64(MaxDuration/Day) {
			return 0, fmt.Errorf("%q is longer than ten years (%dd), the longest lifecycle duration", s, MaxDuration/Day)
		}
		d = time.Duration(days) * Day
		rest = text[i+1:]
	}
	if rest != "" {
		if rest != text && (rest[0] == '-' || rest[0] == '+') {
			return 0, badDuration(s)
		}
		more, err := time.ParseDuration(rest)
		if err != nil {
			return 0, badDuration(s)
		}
		d += more
	}
	switch {
	case d <= 0:
		return 0, fmt.Errorf("%q is not positive; a lifecycle duration is at least one second, such as \"90d\"", s)
	case d > MaxDuration:
		return 0, fmt.Errorf("%q is longer than ten years (%dd), the longest lifecycle duration", s, MaxDuration/Day)
	}
	return d, nil
}

func badDuration(s string) error {
	return fmt.Errorf("%q is not a duration: use a number of days with d (\"90d\") or a Go duration (\"2160h\", \"36h30m\")", s)
}

// ValidateDuration is ParseDuration for validators.
func ValidateDuration(s string) error {
	_, err := ParseDuration(s)
	return err
}

// FormatDuration writes d in the server's canonical spelling: whole days as "90d", anything else as
// days and a Go duration ("1d12h0m0s"). ParseDuration(FormatDuration(d)) == d.
func FormatDuration(d time.Duration) string {
	days, rest := d/Day, d%Day
	switch {
	case rest == 0:
		return fmt.Sprintf("%dd", days)
	case days == 0:
		return rest.String()
	}
	return fmt.Sprintf("%dd%s", days, rest)
}

// NormalizeDuration parses s and writes it canonically ("2160h" becomes "90d").
func NormalizeDuration(s string) (string, error) {
	d, err := ParseDuration(s)
	if err != nil {
		return "", err
	}
	return FormatDuration(d), nil
}

// DurationsEqual reports whether a and b are the same valid duration ("90d" and "2160h" are).
func DurationsEqual(a, b string) bool {
	da, err1 := ParseDuration(a)
	db, err2 := ParseDuration(b)
	return err1 == nil && err2 == nil && da == db
}

// ParseTimestamp reads an RFC 3339 timestamp such as "2026-12-30T00:00:00Z" (expires_at).
func ParseTimestamp(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 timestamp; write it like \"2026-12-30T00:00:00Z\" (a date, T, a time and a zone)", s)
	}
	if t.Year() < 2000 || t.Year() > 9999 {
		return time.Time{}, fmt.Errorf("%q is out of range: the year must be between 2000 and 9999", s)
	}
	return t.UTC(), nil
}

// ValidateTimestamp is ParseTimestamp for validators.
func ValidateTimestamp(s string) error {
	_, err := ParseTimestamp(s)
	return err
}

// TimestampsEqual reports whether a and b are the same valid instant in any spelling.
func TimestampsEqual(a, b string) bool {
	ta, err1 := ParseTimestamp(a)
	tb, err2 := ParseTimestamp(b)
	return err1 == nil && err2 == nil && ta.Equal(tb)
}
