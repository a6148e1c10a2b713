// Package jwkset is the one normal form of an uploaded JSON Web Key Set (an identity provider's
// jwks_json): the public part of each key, re-serialised, with every member go-jose does not know
// dropped. The server stores and shows this form, so members a key should not carry (the p and q of
// an RSA key sent without d, comments, anything else) never reach an answer or Terraform state; the
// provider compares configurations in it, so the dropped members are not drift.
package jwkset

import (
	"encoding/json"
	"errors"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// Normalize returns doc's keys, public parts only, as a compact {"keys": [...]}. It fails when doc
// is not a key set (the server's own check says why, naming the key).
func Normalize(doc string) (string, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	dec := json.NewDecoder(strings.NewReader(doc))
	if err := dec.Decode(&set); err != nil || dec.More() || len(set.Keys) == 0 {
		return "", errors.New("not a JSON Web Key Set")
	}
	out := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(set.Keys))}
	for _, raw := range set.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil {
			return "", errors.New("not a JSON Web Key")
		}
		pub := k.Public()
		if !pub.Valid() {
			return "", errors.New("not a public key")
		}
		out.Keys = append(out.Keys, pub)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// Equal reports whether two key sets hold the same public keys in the same order (false when
// either is not a key set).
func Equal(a, b string) bool {
	na, err := Normalize(a)
	if err != nil {
		return false
	}
	nb, err := Normalize(b)
	return err == nil && na == nb
}
