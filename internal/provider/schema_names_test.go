package provider

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// schemaNamesFile lists every type and argument the provider has offered: a configuration that uses one
// must keep working, so a name leaves the schema only after a release that deprecated it.
const schemaNamesFile = "testdata/schema_names.txt"

// Nothing the provider offered disappears by accident: a renamed resource type, data source, ephemeral
// resource, list resource, action or argument breaks every configuration that uses the old name. The
// old name stays, with a DeprecationMessage naming the new one (Terraform 1.15+ shows a provider's
// deprecations where the configuration uses them), until a major release removes it and this file.
// New names are fine; MODELKEYS_UPDATE_SCHEMA_NAMES=1 records them.
func TestSchemaNames_nothingRemoved(t *testing.T) {
	current := providerSchemaNames(t)
	if os.Getenv("MODELKEYS_UPDATE_SCHEMA_NAMES") == "1" {
		if err := os.WriteFile(schemaNamesFile, []byte(strings.Join(current, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(filepath.Clean(schemaNamesFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if !slices.Contains(current, name) {
			t.Errorf("%s is gone from the provider's schema. Configurations that use it break: keep it, with a DeprecationMessage "+
				"that names what replaces it (and state handling for both), until a major release; a removal then edits %s.", name, schemaNamesFile)
		}
	}
}

// providerSchemaNames are "KIND TYPE" and "KIND TYPE.ARG" (nested arguments with dots) of every
// resource, data source, ephemeral resource, list resource and action, sorted.
func providerSchemaNames(t *testing.T) []string {
	t.Helper()
	s := providerserver.NewProtocol6(New("test")())()
	resp, err := s.GetProviderSchema(context.Background(), &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	add := func(kind string, schemas map[string]*tfprotov6.Schema) {
		for typ, sch := range schemas {
			names = append(names, kind+" "+typ)
			if sch != nil {
				names = appendBlockNames(names, kind+" "+typ, sch.Block)
			}
		}
	}
	add("resource", resp.ResourceSchemas)
	add("data", resp.DataSourceSchemas)
	add("ephemeral", resp.EphemeralResourceSchemas)
	add("list", resp.ListResourceSchemas)
	actions := map[string]*tfprotov6.Schema{}
	for typ, a := range resp.ActionSchemas {
		actions[typ] = a.Schema
	}
	add("action", actions)
	if resp.Provider != nil {
		names = appendBlockNames(names, "provider modelkeys", resp.Provider.Block)
	}
	slices.Sort(names)
	return names
}

func appendBlockNames(names []string, prefix string, b *tfprotov6.SchemaBlock) []string {
	if b == nil {
		return names
	}
	for _, a := range b.Attributes {
		names = append(names, prefix+"."+a.Name)
		if a.NestedType != nil {
			names = appendBlockNames(names, prefix+"."+a.Name, &tfprotov6.SchemaBlock{Attributes: a.NestedType.Attributes})
		}
	}
	for _, nb := range b.BlockTypes {
		names = append(names, prefix+"."+nb.TypeName)
		names = appendBlockNames(names, prefix+"."+nb.TypeName, nb.Block)
	}
	return names
}
