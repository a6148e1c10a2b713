// tools/catalog-gen is its own module so that its TOML library weighs on neither the provider's
// module nor the other tools'; it builds against this tree's internal/catalog (the replace below) to
// share the catalog's publisher rules.
module github.com/modelkeys/terraform-provider-modelkeys/tools/catalog-gen

go 1.25.8

replace github.com/modelkeys/terraform-provider-modelkeys => ../..

require (
	github.com/BurntSushi/toml v1.6.0
	github.com/modelkeys/terraform-provider-modelkeys v0.0.0-00010101000000-000000000000
)
