package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
)

var errParametersNotObject = errors.New("parameters must be a JSON object, such as jsonencode({ temperature = 0.2 })")

// NormalizeParameters checks that a connection's parameters are a JSON object and returns them compact
// with sorted keys, so that equal parameters are stored, and compared, as equal strings. Empty text is
// no parameters. Numbers keep their spelling. The server stores what this returns; the provider checks
// with it at plan time.
func NormalizeParameters(text string) (string, error) {
	if strings.TrimSpace(text) == "" {
		return "", nil
	}
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil || dec.More() || v == nil { // v == nil: the text was null
		return "", errParametersNotObject
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSpace(buf.String()), nil
}
