package verify

import (
	"encoding/json"
	"fmt"
	"strings"
)

// openAIModels reads {"object":"list","data":[{"id":...}]}: OpenAI and every server that copies it.
// "data": null and a missing data are an empty list (some servers send them when there are no models);
// a bare array of models and {"models":[...]} (Ollama-style names) are accepted too.
func openAIModels(body []byte) ([]string, error) {
	var doc struct {
		Data   []modelEntry `json:"data"`
		Models []modelEntry `json:"models"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		var arr []modelEntry
		if err2 := json.Unmarshal(body, &arr); err2 == nil {
			return ids(arr), nil
		}
		return nil, fmt.Errorf("not a JSON list of models: %v", err)
	}
	if len(doc.Data) > 0 {
		return ids(doc.Data), nil
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
		return nil, fmt.Errorf("not a Gemini list of models: %v", err)
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
		return nil, fmt.Errorf("not a Databricks list of serving endpoints: %v", err)
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
		return nil, fmt.Errorf("not a Bedrock list of foundation models: %v", err)
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
		return nil, fmt.Errorf("not an Azure AI model info: %v", err)
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
