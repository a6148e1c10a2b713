// Package vendorfake serves loopback fakes of the vendors' admin APIs that managed rotation uses
// (OpenAI's project service accounts, OpenRouter's key management, LiteLLM's virtual keys), at the
// vendors' documented paths and with their documented bodies. They really mint, track and revoke keys,
// and their inference endpoint (the model list the verifier probes) accepts only live keys, so tests
// can tell which keys work at any moment. For tests only.
package vendorfake

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Key is one inference key the fake made.
type Key struct {
	ID, Name, Secret string
	Live             bool
}

// Fake is one vendor's admin API and inference endpoint.
type Fake struct {
	Vendor   string // openai, openrouter, litellm, bedrock or azure_openai
	AdminKey string
	// AccessKeyID is the admin's IAM access key id (bedrock); AdminKey is its secret access key.
	AccessKeyID string
	// Now is the fake's clock (IAM's CreateDate); nil is time.Now.
	Now     func() time.Time
	Project string // openai: the project whose service accounts it serves
	srv     *httptest.Server

	mu   sync.Mutex
	keys []*Key
	// RefuseNew makes the inference endpoint refuse keys minted from now on (a failed verification).
	refuseNew bool
	refused   map[string]bool
	// Calls counts admin API requests; Probes inference requests.
	Calls, Probes atomic.Int64
	// DropMintAnswer makes the next mint succeed at the vendor but fail the answer (a lost reply).
	dropMint atomic.Bool
}

// New starts a fake of vendor on loopback; Close it when done.
func New(vendor, adminKey string) *Fake {
	f := &Fake{Vendor: vendor, AdminKey: adminKey, Project: "proj_fake", refused: map[string]bool{}}
	mux := http.NewServeMux()
	switch vendor {
	case "openai":
		mux.HandleFunc("GET /v1/organization/projects", f.admin(func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, map[string]any{"object": "list", "data": []any{map[string]any{"id": f.Project, "object": "organization.project", "name": "fake", "status": "active"}}, "has_more": false})
		}))
		mux.HandleFunc("POST /v1/organization/projects/{project}/service_accounts", f.admin(func(w http.ResponseWriter, r *http.Request) {
			if r.PathValue("project") != f.Project {
				writeJSON(w, 404, map[string]any{"error": map[string]any{"message": "No such project"}})
				return
			}
			var body struct {
				Name string `json:"name"`
			}
			_ = json.NewDecoder(r.Body).Decode(&body)
			k := f.mint("svc_acct_", body.Name, "sk-svcacct-")
			if f.dropMint.CompareAndSwap(true, false) {
				panic(http.ErrAbortHandler)
			}
			writeJSON(w, 200, map[string]any{"object": "organization.project.service_account", "id": k.ID, "name": k.Name, "role": "member", "created_at": 1711471533,
				"api_key": map[string]any{"object": "organization.project.service_account.api_key", "value": k.Secret, "name": "Secret Key", "created_at": 1711471533, "id": "key_" + k.ID[len("svc_acct_"):]}})
		}))
		mux.HandleFunc("GET /v1/organization/projects/{project}/service_accounts", f.admin(func(w http.ResponseWriter, r *http.Request) {
			var data []any
			for _, k := range f.Keys() {
				if k.Live {
					data = append(data, map[string]any{"object": "organization.project.service_account", "id": k.ID, "name": k.Name, "role": "member", "created_at": 1711471533})
				}
			}
			writeJSON(w, 200, map[string]any{"object": "list", "data": data, "has_more": false})
		}))
		mux.HandleFunc("DELETE /v1/organization/projects/{project}/service_accounts/{id}", f.admin(func(w http.ResponseWriter, r *http.Request) {
			if !f.revoke(r.PathValue("id")) {
				writeJSON(w, 404, map[string]any{"error": map[string]any{"message": "No such service account"}})
				return
			}
			writeJSON(w, 200, map[string]any{"object": "organization.project.service_account.deleted", "id": r.PathValue("id"), "deleted": true})
		}))
		mux.HandleFunc("GET /v1/models", f.inference)
	case "openrouter":
		mux.HandleFunc("GET /api/v1/keys", f.admin(func(w http.ResponseWriter, r *http.Request) {
			offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
			var data []any
			for _, k := range f.Keys() {
				if k.Live {
					data = append(data, map[string]any{"hash": k.ID, "name": k.Name, "label": k.Name, "disabled": false})
				}
			}
			if offset >= len(data) {
				data = []any{}
			} else {
				data = data[offset:]
			}
			writeJSON(w, 200, map[string]any{"data": data})
		}))
		mux.HandleFunc("POST /api/v1/keys", f.admin(func(w http.ResponseWriter, r *http.Request) {
			var body struct {
				Name string `json:"name"`
			}
			_ = json.NewDecoder(r.Body).Decode(&body)
			k := f.mint("", body.Name, "sk-or-v1-")
			if f.dropMint.CompareAndSwap(true, false) {
				panic(http.ErrAbortHandler)
			}
			writeJSON(w, 201, map[string]any{"data": map[string]any{"hash": k.ID, "name": k.Name, "label": k.Name, "disabled": false}, "key": k.Secret})
		}))
		mux.HandleFunc("DELETE /api/v1/keys/{hash}", f.admin(func(w http.ResponseWriter, r *http.Request) {
			if !f.revoke(r.PathValue("hash")) {
				writeJSON(w, 404, map[string]any{"error": map[string]any{"message": "Key not found", "code": 404}})
				return
			}
			writeJSON(w, 200, map[string]any{"deleted": true})
		}))
		mux.HandleFunc("GET /api/v1/models", f.inference)
		mux.HandleFunc("GET /api/v1/key", f.inference)
		mux.HandleFunc("GET /api/v1/models/user", f.inference)
	case "litellm":
		mux.HandleFunc("GET /key/list", f.admin(func(w http.ResponseWriter, r *http.Request) {
			alias := r.URL.Query().Get("key_alias")
			keys := []any{}
			for _, k := range f.Keys() {
				if k.Live && (alias == "" || k.Name == alias) {
					keys = append(keys, map[string]any{"token": k.ID, "key_alias": k.Name})
				}
			}
			writeJSON(w, 200, map[string]any{"keys": keys, "total_count": len(keys), "current_page": 1, "total_pages": 1})
		}))
		mux.HandleFunc("POST /key/generate", f.admin(func(w http.ResponseWriter, r *http.Request) {
			var body struct {
				KeyAlias string `json:"key_alias"`
			}
			_ = json.NewDecoder(r.Body).Decode(&body)
			k := f.mint("", body.KeyAlias, "sk-")
			if f.dropMint.CompareAndSwap(true, false) {
				panic(http.ErrAbortHandler)
			}
			writeJSON(w, 200, map[string]any{"key": k.Secret, "token": k.ID, "key_alias": k.Name, "key_name": "sk-..." + k.Secret[len(k.Secret)-4:]})
		}))
		mux.HandleFunc("POST /key/delete", f.admin(func(w http.ResponseWriter, r *http.Request) {
			var body struct {
				Keys []string `json:"keys"`
			}
			_ = json.NewDecoder(r.Body).Decode(&body)
			var deleted []string
			for _, id := range body.Keys {
				if f.revoke(id) {
					deleted = append(deleted, id)
				}
			}
			if len(deleted) == 0 {
				writeJSON(w, 404, map[string]any{"error": map[string]any{"message": "Key not found"}})
				return
			}
			writeJSON(w, 200, map[string]any{"deleted_keys": deleted})
		}))
		mux.HandleFunc("GET /models", f.inference)
		mux.HandleFunc("GET /v1/models", f.inference)
	case "bedrock":
		// IAM's Query API (POST /) and Bedrock's ListFoundationModels (GET /foundation-models).
		f.AccessKeyID = "AKIAFAKEADMIN0000001"
		mux.HandleFunc("POST /{$}", func(w http.ResponseWriter, r *http.Request) {
			f.Calls.Add(1)
			if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential="+f.AccessKeyID+"/") || r.Header.Get("X-Amz-Date") == "" {
				iamError(w, 403, "InvalidClientTokenId", "The security token included in the request is invalid.")
				return
			}
			_ = r.ParseForm()
			form := r.PostForm
			if form.Get("Version") != "2010-05-08" {
				iamError(w, 400, "InvalidAction", "Version must be 2010-05-08")
				return
			}
			user := form.Get("UserName")
			switch form.Get("Action") {
			case "GetUser":
				writeXML(w, 200, `<GetUserResponse><GetUserResult><User><UserName>modelkeys-admin</UserName></User></GetUserResult></GetUserResponse>`)
			case "CreateServiceSpecificCredential":
				if user != "bedrock-app" || form.Get("ServiceName") != "bedrock.amazonaws.com" {
					iamError(w, 404, "NoSuchEntity", "The user with name "+user+" cannot be found.")
					return
				}
				if len(f.LiveSecrets()) >= 2 {
					iamError(w, 409, "LimitExceeded", "Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: 2")
					return
				}
				k := f.mint("ACCA", "", "ABSK")
				if f.dropMint.CompareAndSwap(true, false) {
					panic(http.ErrAbortHandler)
				}
				writeXML(w, 200, `<CreateServiceSpecificCredentialResponse><CreateServiceSpecificCredentialResult><ServiceSpecificCredential>`+
					`<CreateDate>`+f.now().Format(time.RFC3339)+`</CreateDate><ServiceName>bedrock.amazonaws.com</ServiceName>`+
					`<ServiceCredentialAlias>bedrock-app-at-000000000000</ServiceCredentialAlias><ServiceCredentialSecret>`+k.Secret+`</ServiceCredentialSecret>`+
					`<ServiceSpecificCredentialId>`+k.ID+`</ServiceSpecificCredentialId><UserName>bedrock-app</UserName><Status>Active</Status>`+
					`</ServiceSpecificCredential></CreateServiceSpecificCredentialResult></CreateServiceSpecificCredentialResponse>`)
			case "ListServiceSpecificCredentials":
				var b strings.Builder
				for _, k := range f.Keys() {
					if k.Live && strings.HasPrefix(k.ID, "ACCA") {
						b.WriteString(`<member><ServiceSpecificCredentialId>` + k.ID + `</ServiceSpecificCredentialId><ServiceName>bedrock.amazonaws.com</ServiceName><Status>Active</Status><CreateDate>` + f.now().Format(time.RFC3339) + `</CreateDate><UserName>bedrock-app</UserName></member>`)
					}
				}
				writeXML(w, 200, `<ListServiceSpecificCredentialsResponse><ListServiceSpecificCredentialsResult><ServiceSpecificCredentials>`+b.String()+`</ServiceSpecificCredentials></ListServiceSpecificCredentialsResult></ListServiceSpecificCredentialsResponse>`)
			case "DeleteServiceSpecificCredential":
				if !f.revoke(form.Get("ServiceSpecificCredentialId")) {
					iamError(w, 404, "NoSuchEntity", "No such credential.")
					return
				}
				writeXML(w, 200, `<DeleteServiceSpecificCredentialResponse><ResponseMetadata><RequestId>0</RequestId></ResponseMetadata></DeleteServiceSpecificCredentialResponse>`)
			default:
				iamError(w, 400, "InvalidAction", "unknown action")
			}
		})
		mux.HandleFunc("GET /foundation-models", f.inference)
	case "azure_openai":
		// One server is Microsoft Entra ID, Azure Resource Manager and the resource's endpoint.
		f.keys = []*Key{{ID: "key1", Name: "key1", Secret: "azure-key1-" + random(16), Live: true}, {ID: "key2", Name: "key2", Secret: "azure-key2-" + random(16), Live: true}}
		mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", func(w http.ResponseWriter, r *http.Request) {
			f.Calls.Add(1)
			_ = r.ParseForm()
			if r.PostForm.Get("client_secret") != f.AdminKey || r.PostForm.Get("scope") != "https://management.azure.com/.default" || r.PostForm.Get("grant_type") != "client_credentials" {
				writeJSON(w, 401, map[string]any{"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."})
				return
			}
			writeJSON(w, 200, map[string]any{"token_type": "Bearer", "expires_in": 3599, "access_token": "arm-token-" + f.AdminKey[len(f.AdminKey)-4:]})
		})
		arm := func(h http.HandlerFunc) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				f.Calls.Add(1)
				if r.Header.Get("Authorization") != "Bearer arm-token-"+f.AdminKey[len(f.AdminKey)-4:] || r.URL.Query().Get("api-version") == "" {
					writeJSON(w, 401, map[string]any{"error": map[string]any{"code": "InvalidAuthenticationToken", "message": "The access token is invalid."}})
					return
				}
				h(w, r)
			}
		}
		mux.HandleFunc("GET /subscriptions", arm(func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, map[string]any{"value": []any{map[string]any{"subscriptionId": "00000000-1111-2222-3333-444444444444"}}})
		}))
		mux.HandleFunc("POST /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.CognitiveServices/accounts/{acct}/regenerateKey", arm(func(w http.ResponseWriter, r *http.Request) {
			var body struct {
				KeyName string `json:"keyName"`
			}
			_ = json.NewDecoder(r.Body).Decode(&body)
			slot := map[string]string{"Key1": "key1", "Key2": "key2"}[body.KeyName]
			if slot == "" || r.PathValue("acct") != "contoso-openai" {
				writeJSON(w, 400, map[string]any{"error": map[string]any{"code": "InvalidRequest", "message": "keyName must be Key1 or Key2"}})
				return
			}
			f.revoke(slot)
			f.mu.Lock()
			k := &Key{ID: slot, Name: slot, Secret: "azure-" + slot + "-" + random(16), Live: true}
			f.keys = append(f.keys, k)
			if f.refuseNew {
				f.refused[k.Secret] = true
			}
			f.mu.Unlock()
			if f.dropMint.CompareAndSwap(true, false) {
				panic(http.ErrAbortHandler)
			}
			f.mu.Lock()
			out := map[string]string{}
			for _, k := range f.keys {
				if k.Live {
					out[k.ID] = k.Secret
				}
			}
			f.mu.Unlock()
			writeJSON(w, 200, out)
		}))
		mux.HandleFunc("GET /openai/models", func(w http.ResponseWriter, r *http.Request) {
			f.Probes.Add(1)
			if !f.Works(r.Header.Get("api-key")) {
				writeJSON(w, 401, map[string]any{"error": map[string]any{"code": "401", "message": "Access denied due to invalid subscription key or wrong API endpoint."}})
				return
			}
			writeJSON(w, 200, map[string]any{"data": []any{map[string]any{"id": "gpt-4o"}}})
		})
	default:
		panic("vendorfake: unknown vendor " + vendor)
	}
	f.srv = httptest.NewServer(mux)
	return f
}

// URL is the base URL a credential's base_url (or the verifier's base URL) takes.
func (f *Fake) URL() string {
	switch f.Vendor {
	case "openai":
		return f.srv.URL + "/v1"
	case "openrouter":
		return f.srv.URL + "/api/v1"
	}
	return f.srv.URL
}

// Close stops the server.
func (f *Fake) Close() { f.srv.Close() }

// RefuseNewKeys makes the inference endpoint refuse every key minted from now on.
func (f *Fake) RefuseNewKeys(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refuseNew = on
}

// DropNextMintAnswer makes the next mint happen at the vendor while its answer is lost.
func (f *Fake) DropNextMintAnswer() { f.dropMint.Store(true) }

// Keys is every key made, live or revoked.
func (f *Fake) Keys() []Key {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Key, 0, len(f.keys))
	for _, k := range f.keys {
		out = append(out, *k)
	}
	return out
}

// LiveSecrets are the secrets of the live keys.
func (f *Fake) LiveSecrets() []string {
	var out []string
	for _, k := range f.Keys() {
		if k.Live {
			out = append(out, k.Secret)
		}
	}
	return out
}

// Works reports whether the inference endpoint accepts secret now.
func (f *Fake) Works(secret string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range f.keys {
		if k.Secret == secret {
			return k.Live && !f.refused[k.ID] && !f.refused[k.Secret]
		}
	}
	return false
}

// AddKey makes a live key by hand (one made before modelkeys managed the credential).
func (f *Fake) AddKey(name string) Key {
	return *f.mint("", name, "sk-hand-")
}

func (f *Fake) mint(idPrefix, name, secretPrefix string) *Key {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := idPrefix + random(8)
	if f.Vendor == "openrouter" || f.Vendor == "litellm" {
		id = random(16)
	}
	k := &Key{ID: id, Name: name, Secret: secretPrefix + random(20), Live: true}
	f.keys = append(f.keys, k)
	if f.refuseNew {
		f.refused[k.ID] = true
	}
	return k
}

func (f *Fake) revoke(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := slices.IndexFunc(f.keys, func(k *Key) bool { return k.ID == id && k.Live })
	if i < 0 {
		return false
	}
	f.keys[i].Live = false
	return true
}

func (f *Fake) admin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.Calls.Add(1)
		if r.Header.Get("Authorization") != "Bearer "+f.AdminKey {
			writeJSON(w, 401, map[string]any{"error": map[string]any{"message": "Invalid admin key"}})
			return
		}
		h(w, r)
	}
}

func (f *Fake) inference(w http.ResponseWriter, r *http.Request) {
	f.Probes.Add(1)
	secret, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || !f.Works(secret) {
		writeJSON(w, 401, map[string]any{"error": map[string]any{"message": "Incorrect API key provided"}})
		return
	}
	if f.Vendor == "openai" && r.Header.Get("OpenAI-Project") != f.Project {
		writeJSON(w, 401, map[string]any{"error": map[string]any{"message": "key belongs to another project"}})
		return
	}
	writeJSON(w, 200, map[string]any{"object": "list", "data": []any{map[string]any{"id": "gpt-4o", "object": "model"}}})
}

func (f *Fake) now() time.Time {
	if f.Now != nil {
		return f.Now().UTC()
	}
	return time.Now().UTC()
}

func writeXML(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	// An IAM-style XML answer of the loopback fake, read by the rotation code, never by a browser.
	_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + body)) //nolint:gosec // G705: not HTML, and the body is the fake's own record
}

func iamError(w http.ResponseWriter, status int, code, msg string) {
	writeXML(w, status, `<ErrorResponse><Error><Type>Sender</Type><Code>`+code+`</Code><Message>`+msg+`</Message></Error><RequestId>0</RequestId></ErrorResponse>`)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func random(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
