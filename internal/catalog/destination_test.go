package catalog

import "testing"

// Every URL setting decides where a key goes; a new URL setting must not escape the destination rule.
func TestURLSettingsAreDestinations(t *testing.T) {
	for _, p := range Providers() {
		for _, s := range p.Settings {
			if IsURLSetting(s.Name) && !IsDestinationSetting(s.Name) {
				t.Errorf("%s: URL setting %s is not a destination setting", p.ID, s.Name)
			}
		}
	}
	for _, name := range []string{"region", "location", "auth_method"} {
		if !IsDestinationSetting(name) {
			t.Errorf("%s builds a probe's host name or chooses who receives the secret, so it is a destination", name)
		}
	}
}
