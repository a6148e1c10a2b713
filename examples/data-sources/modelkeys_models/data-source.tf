# Models of one publisher that can call tools.
data "modelkeys_models" "anthropic_tools" {
  publisher  = "anthropic"
  capability = "tool_call"
}

# Every model, with "allowed" telling whether the organisation's policy lets
# people use it.
data "modelkeys_models" "all" {}

output "allowed_models" {
  value = [for m in data.modelkeys_models.all.models : "${m.model_provider}/${m.id}" if m.allowed]
}

output "largest_context_window" {
  value = max([for m in data.modelkeys_models.anthropic_tools.models : coalesce(m.context_window, 0)]...)
}
