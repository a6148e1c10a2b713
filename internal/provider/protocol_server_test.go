package provider

import (
	"context"
	"errors"
	"runtime"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

type payloadKey struct{}

// heldAfterCalls makes 32 ValidateResourceConfig calls, each with a context that carries 1 MiB, and
// returns how much of that the server still holds once they have all returned and been cancelled.
func heldAfterCalls(t *testing.T, srv tfprotov6.ProviderServer) int64 {
	t.Helper()
	ctx := context.Background()
	schemas, err := srv.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	typ := schemas.ResourceSchemas["modelkeys_credential"].ValueType().(tftypes.Object)
	attrs := map[string]tftypes.Value{}
	for name, at := range typ.AttributeTypes {
		attrs[name] = tftypes.NewValue(at, nil)
	}
	attrs["name"] = tftypes.NewValue(tftypes.String, "openai-prod")
	attrs["model_provider"] = tftypes.NewValue(tftypes.String, "openai")
	attrs["api_key"] = tftypes.NewValue(tftypes.String, "sk-proj-protocol-server-test-0001")
	config, err := tfprotov6.NewDynamicValue(typ, tftypes.NewValue(typ, attrs))
	if err != nil {
		t.Fatal(err)
	}

	heap := func() int64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return int64(m.HeapAlloc)
	}
	before := heap()
	for range 32 {
		callCtx, cancel := context.WithCancel(context.WithValue(ctx, payloadKey{}, make([]byte, 1<<20)))
		resp, err := srv.ValidateResourceConfig(callCtx, &tfprotov6.ValidateResourceConfigRequest{TypeName: "modelkeys_credential", Config: &config})
		cancel()
		if err != nil || len(resp.Diagnostics) > 0 {
			t.Fatalf("ValidateResourceConfig: %v %+v", err, *resp.Diagnostics[0])
		}
	}
	held := heap() - before
	runtime.KeepAlive(srv) // a provider process keeps its server for its whole life
	return held
}

func TestProtocolServerLetsGoOfCallContexts(t *testing.T) {
	if held := heldAfterCalls(t, NewProtocol6Server("test")()); held > 8<<20 {
		t.Errorf("after 32 calls with 1 MiB contexts the provider still holds %d MiB; want the contexts freed", held>>20)
	}
}

// The framework alone keeps every call's context (proto6server.registerContext). When this fails, a
// newer framework has fixed that, and NewProtocol6Server can serve the framework's server unwrapped.
func TestFrameworkServerStillKeepsCallContexts(t *testing.T) {
	if held := heldAfterCalls(t, providerserver.NewProtocol6(New("test")())()); held < 24<<20 {
		t.Errorf("the framework's own server held only %d MiB of 32 MiB of call contexts: the leak NewProtocol6Server works around looks fixed", held>>20)
	}
}

func TestReleasableContextAnswersAsItsContextUntilReleased(t *testing.T) {
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), payloadKey{}, "v"))
	defer cancel()
	var during context.Context
	_, _ = withReleasedContext(parent, struct{}{}, func(ctx context.Context, _ struct{}) (struct{}, error) {
		during = ctx
		if ctx.Value(payloadKey{}) != "v" || ctx.Done() != parent.Done() || ctx.Err() != nil {
			t.Errorf("during the call the context does not answer as its parent")
		}
		return struct{}{}, nil
	})
	if during.Value(payloadKey{}) != nil || !errors.Is(during.Err(), context.Canceled) {
		t.Errorf("after the call the context still answers as its parent: value %v, err %v", during.Value(payloadKey{}), during.Err())
	}
	select {
	case <-during.Done():
	default:
		t.Errorf("after the call the context is not done")
	}
}
