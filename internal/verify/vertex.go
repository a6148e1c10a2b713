package verify

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// GoogleTokenURL is the token endpoint of Google service accounts.
const GoogleTokenURL = "https://oauth2.googleapis.com/token"

// googleTokenURLs are the token endpoints Google writes in key files (older files name the second).
var googleTokenURLs = map[string]bool{GoogleTokenURL: true, "https://accounts.google.com/o/oauth2/token": true}

// DefaultVertexLocation is the Vertex AI location used when a credential sets none (the catalog's
// description of the location setting says so).
const DefaultVertexLocation = "us-central1"

// cloudPlatformScope is the OAuth scope Vertex AI calls need.
const cloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform"

// serviceAccount is the part of a Google service-account key file the probe uses.
type serviceAccount struct {
	Type         string `json:"type"`
	ProjectID    string `json:"project_id"`
	PrivateKeyID string `json:"private_key_id"`
	PrivateKey   string `json:"private_key"`
	ClientEmail  string `json:"client_email"`
	TokenURI     string `json:"token_uri"`
}

// parseServiceAccount reads a key file and says precisely what is wrong with a malformed one.
func parseServiceAccount(raw string) (serviceAccount, error) {
	var sa serviceAccount
	if err := json.Unmarshal([]byte(raw), &sa); err != nil {
		return sa, fmt.Errorf("api_key is not the JSON key file of a service account: %w", err)
	}
	var missing []string
	for name, v := range map[string]string{"private_key": sa.PrivateKey, "client_email": sa.ClientEmail} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	switch {
	case sa.Type != "service_account":
		return sa, fmt.Errorf("the key file has type %q; Vertex AI needs a service-account key file (type \"service_account\")", sa.Type)
	case len(missing) > 0:
		return sa, fmt.Errorf("the service-account key file lacks %s", strings.Join(sortStrings(missing), " and "))
	}
	return sa, nil
}

func sortStrings(s []string) []string {
	if len(s) == 2 && s[0] > s[1] {
		s[0], s[1] = s[1], s[0]
	}
	return s
}

func (sa serviceAccount) rsaKey() (*rsa.PrivateKey, error) {
	block, _ := pem.Decode([]byte(sa.PrivateKey))
	if block == nil {
		return nil, errors.New("the private_key of the key file is not PEM (-----BEGIN PRIVATE KEY-----)")
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, errors.New("the private_key of the key file is not an RSA key")
		}
		return rk, nil
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	return nil, errors.New("the private_key of the key file cannot be read as a PKCS #8 or PKCS #1 RSA key")
}

var gcpLocation = regexp.MustCompile(`^[a-z0-9-]+$`)

// vertex exchanges a JWT signed by the service account for an access token, then lists at most one
// Vertex AI endpoint of the project (aiplatform.endpoints.list, part of roles/aiplatform.user).
func (v *Verifier) vertex(ctx context.Context, p api.Provider, settings map[string]string, key string) (*probe, error) {
	sa, err := parseServiceAccount(key)
	if err != nil {
		return nil, refused("%v", err)
	}
	pk, err := sa.rsaKey()
	if err != nil {
		return nil, refused("%v", err)
	}
	project, location := vertexDefaults(settings, sa)
	if project == "" {
		return nil, refused("no project: set the setting project_id, or use a key file that has a project_id")
	}
	if !gcpLocation.MatchString(location) || !gcpLocation.MatchString(project) {
		return nil, refused("project_id %q and location %q must be a Google Cloud project id and location such as us-central1", project, location)
	}
	tokenURL := sa.TokenURI
	if tokenURL == "" {
		tokenURL = GoogleTokenURL
	}
	if err := checkURL(tokenURL); err != nil {
		return nil, refused("token_uri of the key file: %v", err)
	}
	// The key file is the editor's input: its token_uri would let them choose where the server POSTs.
	// Only Google's endpoints, or a host the operator configured, receive the signed assertion.
	if !googleTokenURLs[tokenURL] && !v.egress.trusted[hostPort(tokenURL)] {
		return nil, refused("token_uri of the key file is %q; modelkeys exchanges service-account tokens only at %s, or at a host the operator set with --provider-base-url vertex_ai=URL", redactURL(tokenURL), GoogleTokenURL)
	}
	token, err := v.exchange(ctx, sa, pk, tokenURL, newRedactor(map[string]string{"api_key": key}))
	if err != nil {
		return nil, err
	}
	return v.vertexProbe(ctx, p, settings, project, location, token)
}

// vertexProbe lists at most one Vertex AI endpoint of the project with an access token.
func (v *Verifier) vertexProbe(ctx context.Context, p api.Provider, settings map[string]string, project, location, token string) (*probe, error) {
	fallback := "https://" + location + "-aiplatform.googleapis.com"
	if location == "global" {
		fallback = p.DefaultBaseURL
	}
	base, err := v.base(p, settings, "", fallback)
	if err != nil {
		return nil, err
	}
	req, err := get(ctx, fmt.Sprintf("%s/v1/projects/%s/locations/%s/endpoints?pageSize=1", base, url.PathEscape(project), url.PathEscape(location)))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return &probe{req: req, staticModels: catalogModelIDs(p.ID)}, nil
}

// vertexDefaults fills the optional settings: the project is the key file's project_id unless
// project_id is set, and the location is DefaultVertexLocation unless location is set.
func vertexDefaults(settings map[string]string, sa serviceAccount) (project, location string) {
	project, location = strings.TrimSpace(settings["project_id"]), strings.TrimSpace(settings["location"])
	if project == "" {
		project = sa.ProjectID
	}
	if location == "" {
		location = DefaultVertexLocation
	}
	return project, location
}

// exchange runs the OAuth 2.0 JWT bearer grant (RFC 7523) as Google's libraries do. An
// invalid_grant (deleted or disabled key, wrong signature) is a refusal.
func (v *Verifier) exchange(ctx context.Context, sa serviceAccount, pk *rsa.PrivateKey, tokenURL string, red func(string) string) (string, error) {
	now := v.now().Unix()
	header := map[string]string{"alg": "RS256", "typ": "JWT"}
	if sa.PrivateKeyID != "" {
		header["kid"] = sa.PrivateKeyID
	}
	claims := map[string]any{"iss": sa.ClientEmail, "scope": cloudPlatformScope, "aud": tokenURL, "iat": now, "exp": now + 3600}
	hb, _ := json.Marshal(header)
	cb, _ := json.Marshal(claims)
	signing := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(cb)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, pk, crypto.SHA256, sum[:])
	if err != nil {
		return "", refused("cannot sign with the key file's private key: %v", err)
	}
	form := url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"},
		"assertion":  {signing + "." + base64.RawURLEncoding.EncodeToString(sig)},
	}
	return v.postToken(ctx, tokenURL, form, red, googleRefusal)
}
