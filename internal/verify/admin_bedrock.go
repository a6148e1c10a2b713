package verify

// Amazon Bedrock managed rotation, through IAM: a Bedrock API key (long-term) is an IAM
// service-specific credential of an IAM user for the service bedrock.amazonaws.com
// (CreateServiceSpecificCredential, whose answer carries the key once as ServiceCredentialSecret;
// DeleteServiceSpecificCredential; ListServiceSpecificCredentials), called on IAM's Query API
// (POST https://iam.amazonaws.com/, Version 2010-05-08) signed with Signature Version 4 by the admin
// credential's IAM access key (auth_method sigv4: access_key_id and the secret access key as
// api_key). The key id is the ServiceSpecificCredentialId. An IAM user has at most two Bedrock API
// keys, the current one and the new one during the overlap, so the user must be dedicated to one
// credential. Bedrock's keys have no name: a lost key is found among the user's Bedrock keys made since
// the rotation began that are not the current one.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// AWSIAM is IAM's Query API endpoint; Options.BaseURLs[AWSIAMBaseURLKey] replaces it (a partition
// such as GovCloud, or a test).
const AWSIAM = "https://iam.amazonaws.com"

// AWSIAMBaseURLKey is the key of Options.BaseURLs that overrides AWSIAM.
const AWSIAMBaseURLKey = "aws_iam"

const bedrockServiceName = "bedrock.amazonaws.com"

type iamCredential struct {
	ID         string    `xml:"ServiceSpecificCredentialId"`
	Secret     string    `xml:"ServiceCredentialSecret"`
	Service    string    `xml:"ServiceName"`
	Status     string    `xml:"Status"`
	CreateDate time.Time `xml:"CreateDate"`
}

// iamCall sends one IAM Query API action, signed with the admin credential's key, and decodes a 2xx
// XML answer into out.
func (v *Verifier) iamCall(ctx context.Context, adminSettings, adminSecrets map[string]string, params url.Values, out any) (int, error) {
	red := newRedactor(adminSecrets)
	akid := strings.TrimSpace(adminSettings["access_key_id"])
	secret := adminSecrets[api.SecretAPIKey]
	if akid == "" || secret == "" {
		return 0, &AdminError{Refused: true, Msg: "the admin credential needs auth_method sigv4 with access_key_id and the secret access key as api_key"}
	}
	base := v.baseURLs[AWSIAMBaseURLKey]
	if base == "" {
		base = AWSIAM
	}
	if err := checkURL(base); err != nil {
		return 0, &AdminError{Msg: err.Error()}
	}
	params.Set("Version", "2010-05-08")
	body := params.Encode()
	ctx, cancel := context.WithTimeout(ctx, v.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(base, "/")+"/", strings.NewReader(body))
	if err != nil {
		return 0, &AdminError{Msg: "cannot build the request"}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret, Source: "modelkeys"}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "iam", "us-east-1", v.now()); err != nil {
		return 0, &AdminError{Msg: "cannot sign the request"}
	}
	status, respBody, err := v.do(ctx, req)
	if err != nil {
		if e, ok := asEgress(err); ok {
			return 0, &AdminError{Blocked: true, Msg: e.Error()}
		}
		return 0, &AdminError{Msg: red(v.transportError(err))}
	}
	if status < 200 || status >= 300 {
		var e struct {
			Error struct {
				Code    string `xml:"Code"`
				Message string `xml:"Message"`
			} `xml:"Error"`
		}
		msg := http.StatusText(status)
		if xml.Unmarshal(respBody, &e) == nil && e.Error.Code != "" {
			msg = trim(redactTokens(red(e.Error.Code+": "+e.Error.Message)), maxSummary)
		}
		if e.Error.Code == "NoSuchEntity" {
			return http.StatusNotFound, &AdminError{Msg: "IAM: " + msg}
		}
		return status, &AdminError{Refused: status == http.StatusForbidden || status == http.StatusUnauthorized, Msg: "IAM: HTTP " + http.StatusText(status) + ": " + msg}
	}
	if out != nil {
		if err := xml.Unmarshal(respBody, out); err != nil {
			return status, &AdminError{Msg: "IAM answered, but not with the documented XML"}
		}
	}
	return status, nil
}

func (v *Verifier) bedrockVerifyAdmin(ctx context.Context, settings, secrets map[string]string) error {
	_, err := v.iamCall(ctx, settings, secrets, url.Values{"Action": {"GetUser"}}, nil)
	return err
}

func (v *Verifier) bedrockMint(ctx context.Context, r api.AdminKeyRequest) (api.MintedKey, error) {
	user := strings.TrimSpace(r.Settings["iam_user_name"])
	if user == "" {
		return api.MintedKey{}, &AdminError{Msg: "managed rotation needs the setting iam_user_name"}
	}
	var ans struct {
		Cred iamCredential `xml:"CreateServiceSpecificCredentialResult>ServiceSpecificCredential"`
	}
	if _, err := v.iamCall(ctx, r.AdminSettings, r.AdminSecrets, url.Values{"Action": {"CreateServiceSpecificCredential"},
		"UserName": {user}, "ServiceName": {bedrockServiceName}}, &ans); err != nil {
		return api.MintedKey{}, err
	}
	if ans.Cred.ID == "" || ans.Cred.Secret == "" {
		return api.MintedKey{}, &AdminError{Msg: "IAM answered the key creation without ServiceSpecificCredentialId and ServiceCredentialSecret"}
	}
	return api.MintedKey{KeyID: ans.Cred.ID, Secret: ans.Cred.Secret}, nil
}

func (v *Verifier) bedrockFind(ctx context.Context, r api.AdminKeyRequest) (string, bool, error) {
	user := strings.TrimSpace(r.Settings["iam_user_name"])
	if user == "" {
		return "", false, nil
	}
	var ans struct {
		Creds []iamCredential `xml:"ListServiceSpecificCredentialsResult>ServiceSpecificCredentials>member"`
	}
	if _, err := v.iamCall(ctx, r.AdminSettings, r.AdminSecrets, url.Values{"Action": {"ListServiceSpecificCredentials"},
		"UserName": {user}, "ServiceName": {bedrockServiceName}}, &ans); err != nil {
		return "", false, err
	}
	for _, c := range ans.Creds {
		// A minute of leeway for clocks: the key was made after the rotation was recorded.
		if c.ID != r.CurrentKeyID && (r.Since.IsZero() || !c.CreateDate.Before(r.Since.Add(-time.Minute))) {
			return c.ID, true, nil
		}
	}
	return "", false, nil
}

func (v *Verifier) bedrockRevoke(ctx context.Context, r api.AdminKeyRequest) error {
	user := strings.TrimSpace(r.Settings["iam_user_name"])
	status, err := v.iamCall(ctx, r.AdminSettings, r.AdminSecrets, url.Values{"Action": {"DeleteServiceSpecificCredential"},
		"UserName": {user}, "ServiceSpecificCredentialId": {r.KeyID}}, nil)
	if status == http.StatusNotFound {
		return nil
	}
	return err
}
