package catalog

import (
	"slices"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// Capabilities a model can be filtered by (the capability filter of the modelkeys_models data
// source). They are:
//
//   - tool_call: the model can call tools (functions).
//   - reasoning: the model thinks before it answers (reasoning or "thinking" models).
//   - vision:    the model accepts images as input.
//   - pdf:       the model accepts PDF documents as input.
//   - audio:     the model accepts audio as input.
//   - video:     the model accepts video as input.
const (
	CapabilityToolCall  = "tool_call"
	CapabilityReasoning = "reasoning"
	CapabilityVision    = "vision"
	CapabilityPDF       = "pdf"
	CapabilityAudio     = "audio"
	CapabilityVideo     = "video"
)

// inputCapabilities maps the capabilities that are input modalities to the modality name the
// catalog uses; "vision" reads better in a filter than "image".
var inputCapabilities = map[string]string{
	CapabilityVision: "image",
	CapabilityPDF:    "pdf",
	CapabilityAudio:  "audio",
	CapabilityVideo:  "video",
}

// Capabilities returns every capability HasCapability understands, for "one of" validators and docs.
func Capabilities() []string {
	return []string{
		CapabilityAudio, CapabilityPDF, CapabilityReasoning,
		CapabilityToolCall, CapabilityVideo, CapabilityVision,
	}
}

// HasCapability says whether a model has a capability (see Capabilities). An unknown capability is
// never had, so callers validate user input against Capabilities first to report typos.
func HasCapability(m api.Model, capability string) bool {
	switch capability {
	case CapabilityToolCall:
		return m.ToolCall
	case CapabilityReasoning:
		return m.Reasoning
	}
	modality, ok := inputCapabilities[capability]
	return ok && slices.Contains(m.InputModalities, modality)
}
