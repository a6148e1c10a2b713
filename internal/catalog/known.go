package catalog

import (
	"fmt"
	"sort"
	"strings"
)

// A model a connection or a policy names must be one modelkeys knows, so that a typo (gpt-4o-mni)
// fails at plan time instead of being stored as ready. Known means: listed by the catalog, or (for a
// connection, which has a credential) listed by the provider for that credential; providers whose
// models the catalog cannot list (AnyModel: custom servers, gateways, Azure deployments) accept any
// id. A connection may opt out with allow_unknown_model = true, for a model released after the
// catalog was generated.

// ModelListed reports whether the catalog lists model for provider, or the provider accepts any
// model (api.Provider.AnyModel). An unknown provider lists nothing.
func ModelListed(provider, model string) bool {
	c := get()
	if i, ok := c.byID[provider]; ok && c.providers[i].AnyModel {
		return true
	}
	_, ok := c.modelIndex[modelKey{provider, model}]
	return ok
}

// UnknownModelMessage explains why a connection's model is refused, with the nearest known names
// (the catalog's models of provider and live, the models the provider listed for the credential).
// liveNote says what the provider's own list was: "credential \"x\" reaches N models and this is not
// one of them", or why it was not asked. The words are the same at plan time and from the server.
func UnknownModelMessage(provider, model string, live []string, liveNote string) string {
	candidates := append([]string{}, live...)
	for _, m := range ModelsFor(provider) {
		candidates = append(candidates, m.ID)
	}
	msg := fmt.Sprintf("model %q is not a model of %s: the modelkeys catalog does not list it", model, provider)
	if liveNote != "" {
		msg += ", and " + liveNote
	}
	msg += "." + didYouMean(model, candidates)
	return msg + " Correct model, or set allow_unknown_model = true to use a model the catalog does not know yet (a new release, a fine-tune); " +
		"the modelkeys_models data source lists the known models."
}

// NoteNotAsked is UnknownModelMessage's liveNote for a credential with verify = false, whose
// provider modelkeys does not call.
func NoteNotAsked(credential, provider string) string {
	return fmt.Sprintf("credential %q has verify = false, so %s was not asked for its model list", credential, provider)
}

// NoteListed is UnknownModelMessage's liveNote when the provider listed n models for the credential.
func NoteListed(credential, provider string, n int) string {
	return fmt.Sprintf("credential %q reaches %d models by %s's own list and this is not one of them", credential, n, provider)
}

// unknownPolicyModelMessage is UnknownModelMessage for a model policy entry, which has no credential
// and no allow_unknown_model: ids of one's own models (fine-tunes, inference profiles) are accepted
// in their documented forms (see ownModelPrefixes).
func unknownPolicyModelMessage(ref, provider, model string) string {
	var ids []string
	for _, m := range ModelsFor(provider) {
		ids = append(ids, m.ID)
	}
	msg := fmt.Sprintf("%q is not a model the modelkeys catalog lists for %s.%s", ref, provider, prefixed(provider+"/", didYouMean(model, ids)))
	if p, ok := ownModelPrefixes[provider]; ok {
		msg += fmt.Sprintf(" Models of your own are accepted in their provider's form (%s...).", strings.Join(p, "..., "))
	}
	return msg + " The modelkeys_models data source lists the known models"
}

// ownModelPrefixes are the id forms of models a customer makes (fine-tunes, tuned models, imported
// models, inference profiles, deployments): a policy may name them though no catalog lists them.
var ownModelPrefixes = map[string][]string{
	"openai":    {"ft:"},
	"gemini":    {"tunedModels/"},
	"vertex_ai": {"projects/"},
	"bedrock":   {"arn:"},
	"fireworks": {"accounts/"},
	"mistral":   {"ft:"},
}

func ownModel(provider, model string) bool {
	for _, p := range ownModelPrefixes[provider] {
		// A Fireworks library model (accounts/fireworks/...) is in the catalog when it is known.
		if strings.HasPrefix(model, p) && !(provider == "fireworks" && strings.HasPrefix(model, "accounts/fireworks/")) {
			return true
		}
	}
	return false
}

// prefixed puts prefix before each quoted suggestion of a didYouMean sentence: policy entries are
// written provider/model.
func prefixed(prefix, sentence string) string {
	return strings.ReplaceAll(sentence, ` "`, ` "`+prefix)
}

// didYouMean is " Did you mean "a", "b" or "c"?" with the (at most three) candidates nearest to s,
// or "" when none is near enough to be a likely typo.
func didYouMean(s string, candidates []string) string {
	near := Nearest(s, candidates, 3)
	if len(near) == 0 {
		return ""
	}
	q := make([]string, len(near))
	for i, n := range near {
		q[i] = fmt.Sprintf("%q", n)
	}
	if len(q) == 1 {
		return " Did you mean " + q[0] + "?"
	}
	return " Did you mean " + strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1] + "?"
}

// Nearest returns up to n distinct candidates nearest to s by edit distance (case-insensitive),
// nearest first and alphabetical among equals, leaving out those too far to be a typo of s.
func Nearest(s string, candidates []string, n int) []string {
	type scored struct {
		name string
		d    int
	}
	limit := max(2, len(s)/3)
	seen := map[string]bool{}
	var out []scored
	ls := strings.ToLower(s)
	for _, c := range candidates {
		if seen[c] || c == s {
			continue
		}
		seen[c] = true
		if d := levenshtein(ls, strings.ToLower(c)); d <= limit {
			out = append(out, scored{c, d})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].d != out[j].d {
			return out[i].d < out[j].d
		}
		return out[i].name < out[j].name
	})
	names := make([]string, 0, n)
	for i := 0; i < len(out) && i < n; i++ {
		names = append(names, out[i].name)
	}
	return names
}

// levenshtein is the edit distance of a and b in bytes (ids are ASCII).
func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
