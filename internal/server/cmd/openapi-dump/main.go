// Command openapi-dump writes the server's /openapi.json to standard output without starting a server
// or opening a database, for make openapi-lint.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/server"
)

func main() {
	out, err := json.MarshalIndent(server.OpenAPIDocument("dev"), "", "  ")
	if err == nil {
		_, err = os.Stdout.Write(append(out, '\n'))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "openapi-dump:", err)
		os.Exit(1)
	}
}
