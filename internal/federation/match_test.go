package federation_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/federation"
)

func claimsOf(t *testing.T, js string) federation.Claims {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(js))
	dec.UseNumber()
	var c federation.Claims
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestMatch(t *testing.T) {
	c := claimsOf(t, `{
		"sub": "repo:acme/infra:ref:refs/heads/main",
		"repository": "acme/infra",
		"groups": ["staff", "platform-admins"],
		"run_id": 12345678901234567,
		"email_verified": true,
		"address": {"country": "NL"}
	}`)
	cases := []struct {
		name string
		cond map[string]string
		want bool
	}{
		{"exact", map[string]string{"repository": "acme/infra"}, true},
		{"exact differs", map[string]string{"repository": "acme/infra2"}, false},
		{"prefix is not enough", map[string]string{"repository": "acme/"}, false},
		{"wildcard suffix", map[string]string{"sub": "repo:acme/infra:*"}, true},
		{"wildcard middle", map[string]string{"sub": "repo:acme/*:ref:refs/heads/main"}, true},
		{"wildcard does not cross a mismatch", map[string]string{"sub": "repo:acme/*:ref:refs/heads/dev"}, false},
		{"several wildcards", map[string]string{"sub": "*acme*main"}, true},
		{"all must match", map[string]string{"repository": "acme/infra", "sub": "*:ref:refs/heads/dev"}, false},
		{"list claim, one item matches", map[string]string{"groups": "platform-admins"}, true},
		{"list claim, wildcard on items", map[string]string{"groups": "platform-*"}, true},
		{"list claim, no item matches", map[string]string{"groups": "finance"}, false},
		{"list claim is not its joined text", map[string]string{"groups": "staff*admins"}, false},
		{"number by its JSON text", map[string]string{"run_id": "12345678901234567"}, true},
		{"bool by its JSON text", map[string]string{"email_verified": "true"}, true},
		{"bool false", map[string]string{"email_verified": "false"}, false},
		{"missing claim matches nothing, not even *", map[string]string{"repository": "acme/infra", "environment": "*"}, false},
		{"object claim matches nothing", map[string]string{"address": "*"}, false},
		{"case matters", map[string]string{"repository": "ACME/infra"}, false},
		{"no conditions match nothing", map[string]string{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := federation.Match(tc.cond, c); got != tc.want {
				t.Errorf("Match(%v) = %v, want %v", tc.cond, got, tc.want)
			}
		})
	}
}

func TestGlobIsLinear(t *testing.T) {
	// A pathological pattern against a long value must not backtrack exponentially.
	p := strings.Repeat("*a", 50) + "b"
	s := strings.Repeat("a", 5000)
	if federation.Glob(p, s) {
		t.Fatal("matched")
	}
	if !federation.Glob("*", "") || !federation.Glob("a*", "a") || federation.Glob("a", "") {
		t.Fatal("edge cases")
	}
}

func TestCheckConditions(t *testing.T) {
	cases := []struct {
		name string
		cond map[string]string
		want string // "" = accepted
	}{
		{"pinned claim", map[string]string{"repository": "acme/infra", "ref": "*"}, ""},
		{"pattern with a wildcard", map[string]string{"sub": "repo:acme/*"}, ""},
		{"none", nil, "at least one condition"},
		{"only wildcards", map[string]string{"sub": "*", "repository": "**"}, "all wildcards"},
		{"one wildcard", map[string]string{"sub": "*"}, "all wildcards"},
		{"empty name", map[string]string{"": "x"}, "empty claim name"},
		{"spaces around the name", map[string]string{" sub": "x"}, "without surrounding spaces"},
		{"empty pattern", map[string]string{"sub": ""}, `condition "sub": the pattern is empty`},
		// iss is the same in every token of the issuer and the requester picks aud: a rule pinned
		// only by them trusts every GitHub workflow in the world.
		{"only iss and aud", map[string]string{"iss": "https://token.actions.githubusercontent.com", "aud": "modelkeys"}, "pin only claims that every token"},
		{"only aud and a wildcard sub", map[string]string{"aud": "modelkeys", "sub": "*"}, "pin only claims that every token"},
		{"aud with a pinned claim", map[string]string{"aud": "modelkeys", "repository": "acme/infra"}, ""},
		// Every repository on GitHub has a main branch and pull requests: these say nothing of whose.
		{"only a branch and an event", map[string]string{"ref": "refs/heads/main", "event_name": "push"}, "pin only claims that every token"},
		{"only a verified email", map[string]string{"email_verified": "true"}, "pin only claims that every token"},
		{"only an environment", map[string]string{"environment": "production"}, "pin only claims that every token"},
		{"a branch with the repository", map[string]string{"ref": "refs/heads/main", "repository": "acme/infra"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := federation.CheckConditions(tc.cond)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want one containing %q", err, tc.want)
			}
		})
	}
}
