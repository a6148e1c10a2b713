package catalog

import (
	"fmt"
	"slices"
	"strings"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// A keyless credential (auth_method workload_identity) holds no secret at all: modelkeys-server signs
// an assertion for it as an OpenID issuer and exchanges that at the vendor's token endpoint for a
// token that lasts minutes. The rules here are the catalog's half: which settings each vendor's
// exchange needs (catalog.json), that no secret is sent with it, and what plan-time validation says.

// keylessRequires lists settings that are optional for keys but that a keyless credential of the
// provider needs: a Vertex AI key file names its project, a federated token does not.
var keylessRequires = map[string][]string{
	"vertex_ai": {"project_id"},
}

// IsKeyless reports whether a credential of provider id with these settings uses workload identity
// (set, or implied by one of its settings), and so stores no secret.
func IsKeyless(id string, settings map[string]string) bool {
	p, ok := Provider(id)
	return ok && keyless(p, settings)
}

func keyless(p api.Provider, settings map[string]string) bool {
	return AuthMethod(p, settings) == api.AuthMethodWorkloadIdentity
}

// SupportsKeyless reports whether provider id offers auth_method workload_identity.
func SupportsKeyless(id string) bool {
	p, ok := Provider(id)
	return ok && slices.Contains(p.AuthMethods, api.AuthMethodWorkloadIdentity)
}

// checkKeyless is checkSecrets for a keyless credential: any secret is refused, naming the field,
// and the settings its exchange needs beyond those of its method are required.
func checkKeyless(p api.Provider, settings map[string]string, hasAPIKey, hasAuthToken bool) []api.FieldError {
	var errs []api.FieldError
	_, how := authMethod(p, settings)
	for _, f := range []struct {
		name    string
		present bool
	}{{api.SecretAPIKey, hasAPIKey}, {api.SecretAuthToken, hasAuthToken}} {
		if f.present {
			errs = append(errs, api.FieldError{Field: f.name, Message: fmt.Sprintf(
				"%s credentials with %s are keyless: they store no secret, and modelkeys-server exchanges an assertion it signs for a short-lived vendor token instead. Remove %s (or set it to null to delete a stored one), or choose another auth_method to keep a key.",
				p.ID, how, f.name)})
		}
	}
	for _, name := range keylessRequires[p.ID] {
		if strings.TrimSpace(settings[name]) != "" {
			continue
		}
		if _, present := settings[name]; present {
			continue // reported as empty
		}
		def, _ := settingDef(p, name)
		errs = append(errs, api.FieldError{Field: "settings." + name, Message: fmt.Sprintf(
			"%s credentials with %s require the setting %s: %s Add it to settings with a value%s.",
			p.ID, how, name, def.Description, exampleClause(def))})
	}
	return errs
}
