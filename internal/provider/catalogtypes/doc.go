// Package catalogtypes holds Terraform value types whose rules are internal/catalog's, so that an
// attribute is checked and compared exactly as the server checks and compares what it stores:
// Duration for lifecycle durations ("90d", "2160h") and Timestamp for user-set instants
// (expires_at). Their semantic equality keeps the configuration's spelling in state when the server
// answers with its own.
package catalogtypes
