package main

import (
	"os"
	"strings"
	"testing"
)

func TestQuietUnlessLogging(t *testing.T) {
	// Start from an environment without any logging variable (t.Setenv restores them afterwards).
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "TF_LOG") {
			t.Setenv(name, "")
			_ = os.Unsetenv(name)
		}
	}
	for _, name := range []string{"TF_LOG_SDK", "TF_LOG_PROVIDER_MODELKEYS"} {
		t.Setenv(name, "")
		_ = os.Unsetenv(name)
	}

	quietUnlessLogging()
	if os.Getenv("TF_LOG_SDK") != "off" || os.Getenv("TF_LOG_PROVIDER_MODELKEYS") != "off" {
		t.Fatal("without TF_LOG the SDK and provider loggers should be off")
	}

	_ = os.Unsetenv("TF_LOG_SDK")
	_ = os.Unsetenv("TF_LOG_PROVIDER_MODELKEYS")
	t.Setenv("TF_LOG", "DEBUG")
	quietUnlessLogging()
	if v, ok := os.LookupEnv("TF_LOG_SDK"); ok {
		t.Fatalf("with TF_LOG set, TF_LOG_SDK was changed to %q", v)
	}
}
