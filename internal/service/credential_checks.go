package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

func (s *Service) checkProjectExists(ctx context.Context, p Principal, projectID string) error {
	return s.read(ctx, func(tx store.Tx) error {
		_, err := tx.GetProject(ctx, p.OrgID, projectID)
		if errors.Is(err, store.ErrNotFound) {
			return InvalidField("project_id", "project %q does not exist in this organisation; create it first or omit project_id for an organisation-wide object.", projectID)
		}
		return err
	})
}

// hintOf shows the api_key's hint, or the auth_token's when there is no api_key.
func hintOf(plain map[string]string) string {
	if v := plain[api.SecretAPIKey]; v != "" {
		return secrets.Hint(v)
	}
	return secrets.Hint(plain[api.SecretAuthToken])
}

// checkSecretsAreNotMasks refuses a client echoing a mask back as if it were the key, which would
// silently replace a working key with its own hint.
func checkSecretsAreNotMasks(plain map[string]string, storedHint string) []api.FieldError {
	var out []api.FieldError
	for _, f := range secretFields {
		v := plain[f]
		if v == "" {
			continue
		}
		if v == storedHint || v == "****" || v == "{json}" || (strings.Contains(v, "...") && utf8.RuneCountInString(v) <= 16) {
			out = append(out, api.FieldError{Field: f, Message: "this is the masked hint of a key, not a key; send the full secret, or leave the field out to keep the current one."})
		}
	}
	return out
}

// checkMasterKeyCurrent refuses to seal with a master key the database has rotated away from (a server
// started before rotate-master-key ran): what it sealed could not be opened after the restart. It holds
// the fingerprint key's row shared until the transaction ends, so a rotation (which takes the row
// exclusive) waits for this write and then rewraps it, or this write waits for the rotation and then
// sees the new key.
func (s *Service) checkMasterKeyCurrent(ctx context.Context, tx store.Tx) error {
	raw, ok, err := tx.LockMeta(ctx, metaFingerprintKey, false)
	if err != nil || !ok {
		return err
	}
	sealed, err := decodeSealed(raw)
	if err != nil {
		return err
	}
	if sealed.KeyID != s.keys.PrimaryKeyID() {
		return &Error{Status: StatusUnavailable, Title: "Master key rotated",
			Detail: fmt.Sprintf("The database's master key was rotated to %s, but this server runs with %s. Restart it with the new key; no secret was written.", sealed.KeyID, s.keys.PrimaryKeyID())}
	}
	return nil
}

// checkSecretShape refuses secrets with surrounding whitespace or control characters, most often a
// newline from a key read out of a file, which no provider accepts and HTTP cannot even send. Only a
// provider whose key is a JSON key file takes a JSON document, which may span lines.
func checkSecretShape(provider string, plain map[string]string) []api.FieldError {
	var out []api.FieldError
	for _, f := range secretFields {
		v := plain[f]
		if v == "" || (catalog.SecretIsJSONKeyFile(provider, f) && strings.HasPrefix(strings.TrimSpace(v), "{")) {
			continue // a JSON key file (a service account) may span lines
		}
		if !utf8.ValidString(v) {
			out = append(out, api.FieldError{Field: f, Message: "the secret is not UTF-8 text; no provider key has such bytes, so it was probably read from a file in another encoding. Send the key as UTF-8."})
			continue
		}
		if strings.TrimSpace(v) != v || strings.ContainsFunc(v, unicode.IsControl) {
			out = append(out, api.FieldError{Field: f, Message: "the secret has surrounding whitespace or control characters (often a trailing newline from a file); trim it, for example with trimspace(file(...))."})
		}
	}
	return out
}

func checkName(name string) []api.FieldError {
	if err := catalog.ValidateName(name); err != nil {
		return []api.FieldError{{Field: "name", Message: err.Error()}}
	}
	return nil
}

func checkDescription(d string) []api.FieldError {
	if err := catalog.ValidateDescription(d); err != nil {
		return []api.FieldError{{Field: "description", Message: err.Error() + "."}}
	}
	return nil
}

// checkID refuses an id with control characters before it reaches the store: no id has one, and
// PostgreSQL cannot even compare a text holding a NUL.
func checkID(field, id string) []api.FieldError {
	if err := catalog.ValidateText(id); err != nil {
		return []api.FieldError{{Field: field, Message: field + " is not an id: " + err.Error() + "."}}
	}
	return nil
}

func checkLabels(labels map[string]string) []api.FieldError { return catalog.ValidateLabels(labels) }

// checkManagedBy allows a short one-line tool name ("terraform") or nothing.
func checkManagedBy(v string) []api.FieldError {
	if len(v) > 64 || catalog.ValidateText(v) != nil {
		return []api.FieldError{{Field: "managed_by", Message: "managed_by names a tool, such as \"terraform\": at most 64 characters on one line."}}
	}
	return nil
}
