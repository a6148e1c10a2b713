package service

// Where a credential's secrets go. Two rules keep a key where the person who sent it chose:
//
//  1. Whoever moves the destination sends the keys: a change of the effective destination
//     (catalog.Destination: URL settings, the settings a host or token endpoint is built from, the
//     effective auth method), or turning verification on, needs every stored secret, in full, in the
//     same request. Otherwise an editor who cannot read a key could have the server send it elsewhere.
//  2. A new key goes only to a destination its sender saw: a request that brings a secret but not the
//     settings, and no If-Match, is refused when another token set the destination. Otherwise an
//     editor could set their own host with a junk key and capture the next key an admin sends.

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
)

// checkSecretsForMove refuses a change that moves the destination (moved) or turns verification on
// (verifyOn) unless every secret that stays stored (kept) comes, non-empty, with it (sent); removing a
// secret ("" or null) is the only other way.
func checkSecretsForMove(moved []api.AuditChange, verifyOn bool, kept, sent map[string]string) []api.FieldError {
	if len(moved) == 0 && !verifyOn {
		return nil
	}
	var missing []string
	for _, f := range secretFields {
		if kept[f] != "" && sent[f] == "" {
			missing = append(missing, f)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	send := strings.Join(missing, " and ")
	var out []api.FieldError
	for _, m := range moved {
		verb := "changing"
		switch {
		case m.To == "":
			verb = "removing"
		case m.From == "":
			verb = "adding"
		}
		what := strings.TrimPrefix(m.Field, "settings.")
		if m.Field == "settings."+api.SettingAuthMethod {
			what = fmt.Sprintf("the effective auth_method (from %s to %s)", orNone(m.From), orNone(m.To))
		}
		out = append(out, api.FieldError{Field: m.Field, Message: fmt.Sprintf(
			"%s %s changes where or how the stored secrets are sent, so send %s again, in full, in the same request (or remove a secret with an empty value).",
			verb, what, send)})
	}
	if verifyOn {
		out = append(out, api.FieldError{Field: "verify", Message: fmt.Sprintf(
			"turning verify on sends the stored secrets to the provider, so send %s again, in full, in the same request.", send)})
	}
	return out
}

// checkSenderSawDestination is rule 2. A request that brings the settings chose the destination
// itself (settings are replaced whole); one with If-Match was made against the version the sender read,
// destination included, and is not retried on a conflict.
func checkSenderSawDestination(p Principal, cur api.Credential, in api.CredentialPatch, ifMatch int64) error {
	if in.Settings != nil || ifMatch != 0 || !bringsSecret(in) {
		return nil
	}
	if !DestinationSetByOther(cur, p) {
		return nil
	}
	who := "before the server recorded who sets destinations"
	if cur.DestinationSetBy != "" && cur.DestinationSetAt != nil {
		who = fmt.Sprintf("by token %q at %s", cur.DestinationSetBy, cur.DestinationSetAt.UTC().Format(time.RFC3339))
	}
	return &Error{Status: StatusPreconditionRequired, Title: "Confirm the destination",
		Detail: fmt.Sprintf("Credential %s sends its secrets to %s, which was set %s, not by you. A new key goes only to a destination its sender saw: "+
			"read the credential, check where it sends keys, then send the key again with If-Match: %d (its version), or send the settings with the key.",
			cur.ID, DescribeDestination(cur), who, cur.Version)}
}

func bringsSecret(in api.CredentialPatch) bool {
	return (in.APIKey != nil && *in.APIKey != "") || (in.AuthToken != nil && *in.AuthToken != "")
}

// DestinationSetByOther reports whether a token other than p's set c's destination, or nobody
// recorded who did: then a new key from p needs the destination confirmed (If-Match, the settings, or
// the console's tick).
func DestinationSetByOther(c api.Credential, p Principal) bool {
	return c.DestinationSetByToken == "" || c.DestinationSetByToken != p.TokenID
}

// DescribeDestination says where a credential's secrets go, in the catalog's words, for messages and
// the console.
func DescribeDestination(c api.Credential) string {
	prov, ok := catalog.Provider(c.Provider)
	if !ok {
		return c.Provider
	}
	return catalog.DescribeDestination(prov, c.Settings)
}

// recordDestination marks p as the sender who set c's destination, now.
func recordDestination(c *api.Credential, p Principal, now time.Time) {
	c.DestinationSetByToken, c.DestinationSetBy, c.DestinationSetAt = p.TokenID, p.Actor, &now
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// checkResentSecrets refuses secrets that a patch names as resent (api.CredentialPatch.SecretsResent)
// but that are not the stored ones: a key resent only because a change needs it must never rotate the
// credential by surprise (a write-only key whose variable already holds the next key).
func checkResentSecrets(resent []string, stored, sent map[string]string) []api.FieldError {
	var out []api.FieldError
	for _, f := range resent {
		switch {
		case !slices.Contains(secretFields, f):
			out = append(out, api.FieldError{Field: "secrets_resent", Message: fmt.Sprintf("%q is not a secret field; name api_key, auth_token or both.", f)})
		case sent[f] == "":
			out = append(out, api.FieldError{Field: "secrets_resent", Message: fmt.Sprintf("secrets_resent names %s, but the request does not send it; send it, or leave it out of secrets_resent.", f)})
		case equalSecret(sent[f], stored[f]) != 1:
			out = append(out, api.FieldError{Field: f, Message: fmt.Sprintf(
				"the %s sent is not the stored one, and this change resends it without rotating it (secrets_resent). "+
					"In Terraform: the key in configuration is not the stored key; bump %s_wo_version to rotate it, or put the stored key back.", f, f)})
		}
	}
	return out
}
