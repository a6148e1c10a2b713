package catalog

import "testing"

func TestNormalizeParameters(t *testing.T) {
	good := map[string]string{
		"":                                  "",
		`{ "b": 1, "a": 0.20 }`:             `{"a":0.20,"b":1}`,
		`{"stop":["</s>"],"temperature":0}`: `{"stop":["</s>"],"temperature":0}`,
	}
	for in, want := range good {
		if got, err := NormalizeParameters(in); err != nil || got != want {
			t.Errorf("NormalizeParameters(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"null", "[1]", `"x"`, "1", `{"a":1} {}`, "{", "not json"} {
		if _, err := NormalizeParameters(bad); err == nil {
			t.Errorf("NormalizeParameters(%q) accepted", bad)
		}
	}
}
