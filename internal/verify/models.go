package verify

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Bounds of a model list: far above any provider's real list, low enough that an unknown service's
// data cannot come back as "models".
const (
	maxModels     = 5000
	maxModelIDLen = 256
)

// errNotAList is every parser's answer to a body of another shape; it quotes nothing of the body.
var errNotAList = errors.New("the body does not have the documented shape of a model list")

// checkModelIDs refuses a list that is too long or holds anything but plausible model ids: 1 to 256
// characters of printable text without spaces.
func checkModelIDs(ids []string) error {
	if len(ids) > maxModels {
		return fmt.Errorf("it lists %d models, more than the %d a provider lists", len(ids), maxModels)
	}
	for i, id := range ids {
		if id == "" || len(id) > maxModelIDLen || !utf8.ValidString(id) ||
			strings.IndexFunc(id, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) >= 0 {
			return fmt.Errorf("entry %d is not a model id (1 to %d printable characters without spaces)", i+1, maxModelIDLen)
		}
	}
	return nil
}

// openAIModels reads {"object":"list","data":[{"id":...}]}: OpenAI and every server that copies it.
// "data": null and a missing data are an empty list (some servers send them when there are no models);
// a bare array of models and {"models":[...]} (Ollama-style names) are accepted too.
// The object must have "data" or "models", or say "object":"list".
func openAIModels(body []byte) ([]string, error) {
	var doc struct {
		Object string          `json:"object"`
		Data   json.RawMessage `json:"data"`
		Models []modelEntry    `json:"models"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		var arr []modelEntry
		if err2 := json.Unmarshal(body, &arr); err2 == nil {
			return ids(arr), nil
		}
		return nil, errNotAList
	}
	var data []modelEntry
	if len(doc.Data) > 0 && json.Unmarshal(doc.Data, &data) != nil {
		return nil, errNotAList
	}
	if doc.Data == nil && doc.Models == nil && doc.Object != "list" {
		return nil, errNotAList
	}
	if len(data) > 0 {
		return ids(data), nil
	}
	return ids(doc.Models), nil
}

// anthropicModels reads {"data":[{"type":"model","id":...}],"has_more":false,...}.
func anthropicModels(body []byte) ([]string, error) { return openAIModels(body) }

// geminiModels reads {"models":[{"name":"models/gemini-2.0-flash",...}],"nextPageToken":...}.
func geminiModels(body []byte) ([]string, error) {
	var doc struct {
		Models []modelEntry `json:"models"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, errNotAList
	}
	out := []string{}
	for _, m := range doc.Models {
		if id := strings.TrimPrefix(m.key(), "models/"); id != "" {
			out = append(out, id)
		}
	}
	return out, nil
}

// databricksModels reads {"endpoints":[{"name":...}]}; an empty workspace answers {}.
func databricksModels(body []byte) ([]string, error) {
	var doc struct {
		Endpoints []modelEntry `json:"endpoints"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, errNotAList
	}
	return ids(doc.Endpoints), nil
}

// bedrockModels reads {"modelSummaries":[{"modelId":...}]}.
func bedrockModels(body []byte) ([]string, error) {
	var doc struct {
		ModelSummaries []struct {
			ModelID string `json:"modelId"`
		} `json:"modelSummaries"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, errNotAList
	}
	out := []string{}
	for _, m := range doc.ModelSummaries {
		if m.ModelID != "" {
			out = append(out, m.ModelID)
		}
	}
	return out, nil
}

// foundryModels reads Get Model Info: {"model_name":...,"model_type":...,"model_provider_name":...}.
func foundryModels(body []byte) ([]string, error) {
	var doc struct {
		ModelName string `json:"model_name"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, errNotAList
	}
	if doc.ModelName == "" {
		return []string{}, nil
	}
	return []string{doc.ModelName}, nil
}

// modelEntry is one model of a list, by whichever key names it.
type modelEntry struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Model string `json:"model"`
}

func (m modelEntry) key() string {
	switch {
	case m.ID != "":
		return m.ID
	case m.Name != "":
		return m.Name
	}
	return m.Model
}

func ids(ms []modelEntry) []string {
	out := []string{}
	for _, m := range ms {
		if k := m.key(); k != "" {
			out = append(out, k)
		}
	}
	return out
}
