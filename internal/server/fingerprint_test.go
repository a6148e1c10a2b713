package server

import (
	"context"
	"strings"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
)

func TestFingerprintsArePerOrganisation(t *testing.T) {
	forEachBackend(t, testFingerprintsArePerOrganisation)
}

// testFingerprintsArePerOrganisation: the same key has unrelated fingerprints in two organisations, so
// one organisation's state cannot confirm a guess about another's key.
func testFingerprintsArePerOrganisation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	key := h.secret("sk-proj-")
	a := h.mustCreate(h.admin, openAICred("same", key))
	b := h.mustCreate(h.other, openAICred("same", key))
	if a.SecretFingerprint == b.SecretFingerprint {
		t.Fatalf("the same key has the fingerprint %s in two organisations", a.SecretFingerprint)
	}
	for _, fp := range []string{a.SecretFingerprint, b.SecretFingerprint} {
		if !strings.HasPrefix(fp, secrets.FingerprintScheme) {
			t.Fatalf("fingerprint %q lacks the scheme prefix %q", fp, secrets.FingerprintScheme)
		}
	}
}

func TestLegacyFingerprintsUpgradeQuietly(t *testing.T) {
	forEachBackend(t, testLegacyFingerprintsUpgradeQuietly)
}

// testLegacyFingerprintsUpgradeQuietly: a database whose fingerprints an older server made with one key
// for every organisation gets per-organisation ones at the next start, with neither the version nor the
// secret_version moving (so no client sees a change of configuration, nor a rotation).
func testLegacyFingerprintsUpgradeQuietly(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	c := h.mustCreate(h.admin, openAICred("old", h.secret("sk-proj-")))
	db, rebind := h.rawDB()
	defer db.Close()
	legacy := secrets.LegacyFingerprintScheme + "0123456789abcdef0123456789abcdef"
	for _, q := range []string{"UPDATE credentials SET secret_fingerprint = ? WHERE id = ?", "DELETE FROM meta WHERE key = ?"} {
		args := []any{legacy, c.ID}
		if strings.HasPrefix(q, "DELETE") {
			args = []any{"fingerprint_scheme"} // the meta row that records the scheme
		}
		if _, err := db.Exec(rebind(q), args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if got, _ := h.admin.GetCredential(ctx, c.ID); got.SecretFingerprint != legacy {
		t.Fatalf("the test's legacy fingerprint did not take: %s", got.SecretFingerprint)
	}

	if _, err := service.New(ctx, service.Config{Store: h.store, Keyring: h.keyring}); err != nil { // the next start
		t.Fatal(err)
	}
	got, err := h.admin.GetCredential(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.SecretFingerprint != c.SecretFingerprint || got.Version != c.Version || got.SecretVersion != c.SecretVersion {
		t.Fatalf("after the upgrade: fingerprint %s version %d secret_version %d; want %s, %d, %d",
			got.SecretFingerprint, got.Version, got.SecretVersion, c.SecretFingerprint, c.Version, c.SecretVersion)
	}
	var events int
	page, err := h.admin.ListAuditEvents(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range page.Items {
		if e.ObjectID == c.ID && e.Action != "create" {
			events++
		}
	}
	if events != 0 {
		t.Fatalf("the upgrade wrote %d audit events; a scheme change is not a change of the credential", events)
	}
}
