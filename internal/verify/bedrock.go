package verify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
)

var awsRegion = regexp.MustCompile(`^[a-z]{2}(-[a-z0-9]+)+-[0-9]+$`)

// bedrock lists foundation models (ListFoundationModels), the cheapest Bedrock control-plane read.
// With auth_method api_key a Bedrock API key goes as a bearer token; with sigv4 (also implied by
// access_key_id) an IAM secret access key signs the request with Signature Version 4 through the AWS
// SDK's signer.
func (v *Verifier) bedrock(ctx context.Context, p api.Provider, settings map[string]string, key string) (*probe, error) {
	region := settings["region"]
	if !awsRegion.MatchString(region) {
		return nil, refused("region %q is not an AWS Region name such as us-east-1", region)
	}
	base, err := v.base(p, settings, "", "https://bedrock."+region+".amazonaws.com")
	if err != nil {
		return nil, err
	}
	req, err := get(ctx, base+"/foundation-models")
	if err != nil {
		return nil, err
	}
	if catalog.AuthMethod(p, settings) == "sigv4" {
		akid := settings["access_key_id"]
		if akid == "" {
			return nil, refused("auth_method sigv4 needs the setting access_key_id")
		}
		empty := sha256.Sum256(nil)
		creds := aws.Credentials{AccessKeyID: akid, SecretAccessKey: key, Source: "modelkeys"}
		if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(empty[:]), "bedrock", region, v.now()); err != nil {
			return nil, outage("cannot sign the request: %v", err)
		}
	} else {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	return &probe{req: req, models: bedrockModels}, nil
}
