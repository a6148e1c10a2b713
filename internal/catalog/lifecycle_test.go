package catalog

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	good := map[string]time.Duration{
		"90d": 90 * Day, "2160h": 90 * Day, "1d12h": 36 * time.Hour, "36h30m": 36*time.Hour + 30*time.Minute,
		"1s": time.Second, "3650d": MaxDuration, "0d1h": time.Hour,
	}
	for in, want := range good {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
		if back, err := ParseDuration(FormatDuration(got)); err != nil || back != got {
			t.Errorf("FormatDuration(%v) = %q does not parse back: %v, %v", got, FormatDuration(got), back, err)
		}
	}
	for _, in := range []string{"", " 90d", "90", "d", "-1d", "1d-1h", "0d", "0s", "-5h", "3651d", "90days", "1.5d", "99999999999d", "1w", "90D", "1d+1h"} {
		if d, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = %v, want an error", in, d)
		}
	}
	if !DurationsEqual("90d", "2160h") || DurationsEqual("90d", "91d") || DurationsEqual("x", "x") {
		t.Error("DurationsEqual")
	}
	if got := FormatDuration(36 * time.Hour); got != "1d12h0m0s" {
		t.Errorf("FormatDuration(36h) = %q", got)
	}
	if got, _ := NormalizeDuration("2160h"); got != "90d" {
		t.Errorf("NormalizeDuration(2160h) = %q", got)
	}
}

func TestParseTimestamp(t *testing.T) {
	for _, in := range []string{"2026-12-30T00:00:00Z", "2026-12-30T01:00:00+01:00", "2030-01-02T03:04:05.5Z"} {
		if _, err := ParseTimestamp(in); err != nil {
			t.Errorf("ParseTimestamp(%q): %v", in, err)
		}
	}
	for _, in := range []string{"", "2026-12-30", "30/12/2026", "2026-12-30T00:00:00", "1900-01-01T00:00:00Z", "tomorrow"} {
		if _, err := ParseTimestamp(in); err == nil {
			t.Errorf("ParseTimestamp(%q): want an error", in)
		}
	}
	if !TimestampsEqual("2026-12-30T00:00:00Z", "2026-12-30T01:00:00+01:00") {
		t.Error("TimestampsEqual")
	}
}
