package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"
	"github.com/vmihailenco/msgpack/v5"
)

// privateStoreKey is the private-state key under which every resource keeps the end of the store id
// (GET /v1/whoami) of the store it was written to: storeStampLen characters of its random part, enough
// to tell stores apart (50 bits) for half the bytes of the whole id, which Terraform rewrites with
// the rest of the state after every resource it changes.
const privateStoreKey = "store"

const storeStampLen = 10

// storeStamp is what a resource keeps of a store id.
func storeStamp(id string) string {
	if len(id) > storeStampLen {
		return id[len(id)-storeStampLen:]
	}
	return id
}

// storeGuard stops a refresh from quietly turning "the endpoint now reaches another store" into "every
// object is gone, create them all again". Terraform removes a resource whose Read finds nothing and
// then plans to create it; that is right when someone deleted the object, and wrong when the endpoint
// changed (a stray MODELKEYS_ENDPOINT, a moved working directory with a relative file:// path, a new
// server). So a Read that finds its object gone is an error instead when
//   - the resource's private state names another store than the one the endpoint reaches, or
//   - it names none (written before store ids) and the store has no history at all: a new store.
//
// It runs at the protocol level, around every resource type's Read (the framework's and the
// credential's short path alike), and stamps the store id into the private state of every Read and
// Apply that leaves a resource in the state.
type storeGuard struct {
	provider *modelkeysProvider
	// reported: one such error per run is enough (the run fails either way); the other resources of
	// that run keep their state as it was, unread, rather than print the same error each.
	reported atomic.Bool
	checkMu  sync.Mutex // serialises checkConfigured
}

// stamp puts the store id into a response's private state when it keeps a resource.
func (g *storeGuard) stamp(state *tfprotov6.DynamicValue, diags []*tfprotov6.Diagnostic, private []byte) []byte {
	d := g.data()
	if d == nil || d.storeID == "" || isNullState(state) || protoHasError(diags) {
		return private
	}
	m := map[string][]byte{}
	if len(private) > 0 && json.Unmarshal(private, &m) != nil {
		return private
	}
	v, _ := json.Marshal(storeStamp(d.storeID))
	if string(m[privateStoreKey]) == string(v) {
		return private
	}
	m[privateStoreKey] = v
	out, err := json.Marshal(m)
	if err != nil {
		return private
	}
	return out
}

func (g *storeGuard) data() *providerData {
	if g == nil || g.provider == nil {
		return nil
	}
	return g.provider.configured.Load()
}

// afterRead checks a Read's answer (see storeGuard) and stamps the store id.
func (g *storeGuard) afterRead(ctx context.Context, req *tfprotov6.ReadResourceRequest, resp *tfprotov6.ReadResourceResponse) {
	if resp == nil {
		return
	}
	d := g.data()
	if d == nil || d.storeID == "" {
		return
	}
	if !isNullState(req.CurrentState) && isNullState(resp.NewState) && !protoHasError(resp.Diagnostics) {
		if k, ok := importKinds[req.TypeName]; ok && importing(req.Private) {
			// Terraform's own words would be "Cannot import non-existent remote object", naming neither.
			id := identityID(req.CurrentIdentity)
			if id == "" {
				id = stateID(req.CurrentState)
			}
			resp.Diagnostics = append(resp.Diagnostics, &tfprotov6.Diagnostic{Severity: tfprotov6.DiagnosticSeverityError,
				Summary: "Cannot import " + k.kind + " " + id,
				Detail: fmt.Sprintf("No %s with id %q exists in %s at %s. Check the id, and that the token (or the embedded store) is the one of the organisation that holds it.",
					k.kind, id, d.organizationName(), d.where())})
			return
		}
		if msg := g.wrongStore(ctx, d, req); msg != "" {
			// Keep the resource as Terraform holds it: no plan to create it again.
			resp.NewState, resp.Private, resp.NewIdentity = req.CurrentState, req.Private, req.CurrentIdentity
			if g.reported.CompareAndSwap(false, true) {
				resp.Diagnostics = append(resp.Diagnostics, &tfprotov6.Diagnostic{Severity: tfprotov6.DiagnosticSeverityError,
					Summary: "The state was written to another modelkeys store", Detail: msg})
			} else {
				tflog.Warn(ctx, "resource kept unread: its store is not the endpoint's", map[string]any{"type": req.TypeName})
			}
			return
		}
	}
	resp.Private = g.stamp(resp.NewState, resp.Diagnostics, resp.Private)
}

// wrongStore says why the object req's Read did not find is missing because the endpoint reaches
// another store, or "" when it is simply gone.
func (g *storeGuard) wrongStore(ctx context.Context, d *providerData, req *tfprotov6.ReadResourceRequest) string {
	m := map[string][]byte{}
	if len(req.Private) > 0 && json.Unmarshal(req.Private, &m) != nil {
		return ""
	}
	if _, importing := m[".import_before_read"]; importing {
		return "" // an import of an id that does not exist: afterRead says so
	}
	var written string
	if raw := m[privateStoreKey]; len(raw) > 0 && json.Unmarshal(raw, &written) != nil {
		return ""
	}
	what := req.TypeName
	if id := identityID(req.CurrentIdentity); id != "" {
		what += " " + id
	} else if id := stateID(req.CurrentState); id != "" {
		what += " " + id
	}
	here := d.where()
	advice := "If the endpoint changed by mistake (a stray MODELKEYS_ENDPOINT, a working directory moved with a relative file:// path, another server), " +
		"point it back at the store that holds these objects and run again. If they are really gone, remove them from the state (terraform state rm) and apply again."
	switch {
	case written != "" && written != storeStamp(d.storeID):
		return fmt.Sprintf("The state holds %s, written to the store whose id ends in %s, but the endpoint now reaches %s, which is store %s and does not hold it. "+
			"Rather than plan to create this and every other object of the state again there, the provider stops.\n\n%s", what, written, here, d.storeID, advice)
	case written == "" && storeIsEmpty(ctx, d):
		return fmt.Sprintf("The state holds %s (and perhaps more), but the endpoint reaches %s, which is new and empty: nothing was ever written to it. "+
			"Rather than plan to create every object of the state again there, the provider stops.\n\n%s", what, here, advice)
	}
	return ""
}

// where names the store the endpoint reaches, for messages.
func (d *providerData) where() string {
	if d.embeddedPath != "" {
		return "the embedded store " + d.embeddedPath
	}
	return "the modelkeys server at " + d.client.BaseURL()
}

// importing reports a Read right after an import: the framework marks its private state so.
func importing(private []byte) bool {
	m := map[string]json.RawMessage{}
	if len(private) == 0 || json.Unmarshal(private, &m) != nil {
		return false
	}
	_, ok := m[".import_before_read"]
	return ok
}

// storeIsEmpty reports whether nothing was ever written to the store: no audit event at all, which
// every create leaves behind and no delete removes. False when it cannot tell (a viewer token).
func storeIsEmpty(ctx context.Context, d *providerData) bool {
	events, err := d.client.ListAuditEvents(ctx, 0, 1)
	return err == nil && len(events.Items) == 0
}

// identityID is the id of a resource identity of the form {id}, or "".
func identityID(identity *tfprotov6.ResourceIdentityData) string {
	if identity == nil || identity.IdentityData == nil {
		return ""
	}
	v, err := identity.IdentityData.Unmarshal(tftypes.Object{AttributeTypes: map[string]tftypes.Type{"id": tftypes.String}})
	if err != nil {
		return ""
	}
	var attrs map[string]tftypes.Value
	if v.As(&attrs) != nil {
		return ""
	}
	var id string
	if attrs["id"].As(&id) != nil {
		return ""
	}
	return id
}

// stateID is the id attribute of a state (before Terraform 1.12 there is no identity to read it from),
// or "".
func stateID(v *tfprotov6.DynamicValue) string {
	var attrs map[string]any
	switch {
	case v == nil:
		return ""
	case len(v.MsgPack) > 0:
		if msgpack.Unmarshal(v.MsgPack, &attrs) != nil {
			return ""
		}
	case json.Unmarshal(v.JSON, &attrs) != nil:
		return ""
	}
	id, _ := attrs["id"].(string)
	return id
}

// isNullState reports a null (or absent) state: what a Read answers for a resource that is gone.
func isNullState(v *tfprotov6.DynamicValue) bool {
	if v == nil {
		return true
	}
	if len(v.MsgPack) > 0 {
		return len(v.MsgPack) == 1 && v.MsgPack[0] == 0xc0 // msgpack nil
	}
	return len(v.JSON) == 0 || strings.TrimSpace(string(v.JSON)) == "null"
}

func protoHasError(diags []*tfprotov6.Diagnostic) bool {
	for _, d := range diags {
		if d != nil && d.Severity == tfprotov6.DiagnosticSeverityError {
			return true
		}
	}
	return false
}
