// Package catalog is the embedded catalog of model providers and models, and the validation rules
// that follow from it.
//
// The catalog is two JSON files compiled into the binary, so the Terraform provider (at plan time) and
// the server (at request time) agree on which providers exist, which settings and secrets each takes,
// and which models are known, without either asking the other. catalog.json holds the providers,
// written by hand; models.json holds the models, generated from the models.dev data set by
// tools/catalog-gen (make catalog). Every accessor returns copies: callers may change what they get
// without changing the catalog.
package catalog

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"sync"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

//go:embed catalog.json
var embedded []byte

//go:embed models.json
var embeddedModels []byte

// file is the shape of catalog.json (providers) and of models.json (source and models).
type file struct {
	Source    *ModelSource   `json:"source,omitempty"`
	Providers []api.Provider `json:"providers,omitempty"`
	Models    []api.Model    `json:"models,omitempty"`
}

// ModelSource says where the catalog's models come from: the models.dev repository, the commit
// tools/catalog-gen read and that commit's date.
type ModelSource struct {
	Repository string `json:"repository"`
	Commit     string `json:"commit"`
	Date       string `json:"date"`
	License    string `json:"license"`
}

// modelKey identifies a model: the same model id may be served by several providers.
type modelKey struct{ provider, id string }

// catalog is the parsed, validated and indexed content of catalog.json.
type catalog struct {
	providers  []api.Provider // sorted by id
	byID       map[string]int
	models     []api.Model // sorted by provider, then id
	modelIndex map[modelKey]int
	// publisherByID is the publisher of every model id whose catalog entries all have one publisher,
	// for Azure deployments named after their model (see PublisherOf).
	publisherByID map[string]string
	publishers    map[string]bool // of the models and of the publisher rules
	source        ModelSource
}

var (
	loadOnce sync.Once
	loaded   *catalog
)

// get returns the embedded catalog, parsing it on first use. A corrupt embedded file is a build
// mistake, not a runtime condition, so it panics; catalog_test.go proves the shipped file loads.
func get() *catalog {
	loadOnce.Do(func() {
		c, err := parseFiles(embedded, embeddedModels)
		if err != nil {
			panic("catalog: the embedded catalog is invalid: " + err.Error())
		}
		loaded = c
	})
	return loaded
}

// check decodes and validates one catalog file holding providers and models, as the tests write
// them. Unknown fields are errors so that a typo in the data file fails the tests instead of silently
// dropping a fact.
func check(data []byte) error {
	f, err := decode(data)
	if err != nil {
		return err
	}
	return validateFile(&f)
}

// parseFiles reads the providers of catalog.json and the models of models.json.
func parseFiles(providers, models []byte) (*catalog, error) {
	pf, err := decode(providers)
	if err != nil {
		return nil, fmt.Errorf("catalog.json: %w", err)
	}
	mf, err := decode(models)
	if err != nil {
		return nil, fmt.Errorf("models.json: %w", err)
	}
	if len(pf.Models) > 0 || pf.Source != nil {
		return nil, fmt.Errorf("catalog.json: models belong in models.json, which make catalog writes")
	}
	if len(mf.Providers) > 0 || mf.Source == nil {
		return nil, fmt.Errorf("models.json: it holds a source and models only, as tools/catalog-gen writes it")
	}
	f := file{Source: mf.Source, Providers: pf.Providers, Models: mf.Models}
	if err := validateFile(&f); err != nil {
		return nil, err
	}
	return index(f), nil
}

func decode(data []byte) (file, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f file
	if err := dec.Decode(&f); err != nil {
		return f, fmt.Errorf("decode: %w", err)
	}
	if dec.More() {
		return f, fmt.Errorf("decode: trailing data after the catalog object")
	}
	return f, nil
}

// index sorts the file's entries and builds the lookup maps.
func index(f file) *catalog {
	sort.Slice(f.Providers, func(i, j int) bool { return f.Providers[i].ID < f.Providers[j].ID })
	sort.Slice(f.Models, func(i, j int) bool {
		a, b := f.Models[i], f.Models[j]
		if a.Provider != b.Provider {
			return a.Provider < b.Provider
		}
		return a.ID < b.ID
	})
	c := &catalog{
		providers:     f.Providers,
		byID:          make(map[string]int, len(f.Providers)),
		models:        f.Models,
		modelIndex:    make(map[modelKey]int, len(f.Models)),
		publisherByID: make(map[string]string, len(f.Models)),
		publishers:    map[string]bool{},
	}
	if f.Source != nil {
		c.source = *f.Source
	}
	for i, p := range c.providers {
		c.byID[p.ID] = i
	}
	conflicting := map[string]bool{}
	for i, m := range c.models {
		c.modelIndex[modelKey{m.Provider, m.ID}] = i
		c.publishers[m.Publisher] = true
		if prev, ok := c.publisherByID[m.ID]; ok && prev != m.Publisher {
			conflicting[m.ID] = true
		}
		c.publisherByID[m.ID] = m.Publisher
	}
	for id := range conflicting {
		delete(c.publisherByID, id)
	}
	for _, p := range rulePublishers() {
		c.publishers[p] = true
	}
	return c
}

// Source says where the catalog's models come from.
func Source() ModelSource { return get().source }

// Providers returns every provider of the catalog, sorted by id.
func Providers() []api.Provider {
	ps := get().providers
	out := make([]api.Provider, len(ps))
	for i, p := range ps {
		out[i] = cloneProvider(p)
	}
	return out
}

// Provider returns the provider with the given id, and whether it exists.
func Provider(id string) (api.Provider, bool) {
	c := get()
	i, ok := c.byID[id]
	if !ok {
		return api.Provider{}, false
	}
	return cloneProvider(c.providers[i]), true
}

// ProviderIDs returns the ids of every provider, sorted; handy for "one of" validators and messages.
func ProviderIDs() []string {
	ps := get().providers
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	return ids
}

// Models returns every model of the catalog, sorted by provider and then by id. Allowed is always
// false: it depends on the caller's model policy, which the catalog does not know.
func Models() []api.Model {
	return cloneModels(get().models, func(api.Model) bool { return true })
}

// ModelsFor returns the models served by one provider, sorted by id; none for an unknown provider
// or one whose models the catalog cannot list (see api.Provider.AnyModel).
func ModelsFor(provider string) []api.Model {
	return cloneModels(get().models, func(m api.Model) bool { return m.Provider == provider })
}

// Model returns one model of one provider, and whether the catalog knows it.
func Model(provider, id string) (api.Model, bool) {
	c := get()
	i, ok := c.modelIndex[modelKey{provider, id}]
	if !ok {
		return api.Model{}, false
	}
	return cloneModel(c.models[i]), true
}

// Publishers returns the publishers (model makers) the catalog knows, sorted: those of its models
// and those its publisher rules can give (see PublisherByRule), for validating and documenting the
// publishers of a model policy.
func Publishers() []string {
	pubs := get().publishers
	out := make([]string, 0, len(pubs))
	for p := range pubs {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// KnownPublisher reports whether id is one of Publishers.
func KnownPublisher(id string) bool { return get().publishers[id] }

func cloneModels(ms []api.Model, keep func(api.Model) bool) []api.Model {
	out := []api.Model{}
	for _, m := range ms {
		if keep(m) {
			out = append(out, cloneModel(m))
		}
	}
	return out
}

func cloneModel(m api.Model) api.Model {
	m.InputModalities = cloneStrings(m.InputModalities)
	m.OutputModalities = cloneStrings(m.OutputModalities)
	return m
}

func cloneProvider(p api.Provider) api.Provider {
	p.Settings = append([]api.ProviderSetting{}, p.Settings...)
	for i := range p.Settings {
		if p.Settings[i].AllowedValues != nil {
			p.Settings[i].AllowedValues = cloneStrings(p.Settings[i].AllowedValues)
		}
		if p.Settings[i].AuthMethods != nil {
			p.Settings[i].AuthMethods = cloneStrings(p.Settings[i].AuthMethods)
		}
	}
	p.Secrets = append([]api.ProviderSecret{}, p.Secrets...)
	p.AuthMethods = cloneStrings(p.AuthMethods)
	return p
}

func cloneStrings(s []string) []string {
	return append([]string{}, s...)
}
