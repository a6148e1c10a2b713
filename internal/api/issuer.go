package api

// Issuer is the answer of GET /v1/issuer: where vendors find this server's OpenID issuer, and the
// subject its assertions carry for a credential, so the vendor's federation objects (OpenAI's and
// Anthropic's federation rules, OpenRouter's policies, Entra ID federated credentials, Google
// workload identity pool providers) can be written from it.
type Issuer struct {
	// Issuer is the issuer identifier, the `iss` of every assertion (serve --issuer-url).
	Issuer string `json:"issuer"`
	// JWKSURI is where the public signing keys are published.
	JWKSURI string `json:"jwks_uri"`
	// DiscoveryURL is the OpenID discovery document (issuer + /.well-known/openid-configuration).
	DiscoveryURL string `json:"discovery_url"`
	// SubjectFormat shows the form of every subject: modelkeys:org:<organisation id>:credential:<credential id>.
	SubjectFormat string `json:"subject_format"`
	// SubjectPrefix is what every subject of the caller's organisation starts with,
	// modelkeys:org:<organisation id>:credential:, for a vendor rule that trusts the whole organisation
	// (a subject prefix or a condition), written before a credential exists.
	SubjectPrefix string `json:"subject_prefix"`
	// CredentialID echoes the credential_id asked about, when one was.
	CredentialID string `json:"credential_id,omitempty"`
	// Subject is the `sub` of that credential's assertions, stable for the credential's life.
	Subject string `json:"subject,omitempty"`
}
