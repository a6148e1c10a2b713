package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
)

// secretFieldKeys are log field names whose values are always masked.
var secretFieldKeys = []string{"token", "api_key", "api_key_wo", "auth_token", "auth_token_wo", "authorization", "Authorization"}

// maskSecrets returns a context whose tflog output masks the given values wherever they appear, in
// messages and in fields, and masks the secret field names whatever their values.
func maskSecrets(ctx context.Context, values ...string) context.Context {
	var nonEmpty []string
	for _, v := range values {
		if v != "" {
			nonEmpty = append(nonEmpty, v)
		}
	}
	ctx = tflog.MaskFieldValuesWithFieldKeys(ctx, secretFieldKeys...)
	if len(nonEmpty) > 0 {
		ctx = tflog.MaskMessageStrings(ctx, nonEmpty...)
		ctx = tflog.MaskAllFieldValuesStrings(ctx, nonEmpty...)
	}
	return ctx
}

// tflogAdapter routes the API client's log lines into tflog, with the context of the Terraform
// operation that made the request (and so with its masking).
type tflogAdapter struct{ ctx context.Context }

var _ client.ContextLogger = tflogAdapter{}

func (l tflogAdapter) WithContext(ctx context.Context) client.Logger { return tflogAdapter{ctx: ctx} }

func (l tflogAdapter) fields(kv []any) map[string]any {
	m := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[fmt.Sprint(kv[i])] = kv[i+1]
	}
	return m
}

func (l tflogAdapter) Error(msg string, kv ...any) { tflog.Error(l.ctx, msg, l.fields(kv)) }
func (l tflogAdapter) Info(msg string, kv ...any)  { tflog.Info(l.ctx, msg, l.fields(kv)) }
func (l tflogAdapter) Debug(msg string, kv ...any) { tflog.Debug(l.ctx, msg, l.fields(kv)) }
func (l tflogAdapter) Warn(msg string, kv ...any)  { tflog.Warn(l.ctx, msg, l.fields(kv)) }
