package secrets

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func newKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpenRoundTrip(t *testing.T) {
	kr, err := NewKeyring(newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	b := Binding{OrgID: "org_1", CredentialID: "cred_1", Field: "api_key"}
	s, err := kr.Seal([]byte("sk-live-secret-value"), b)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(s.Ciphertext, []byte("sk-live")) || bytes.Contains(s.WrappedKey, []byte("sk-live")) {
		t.Fatal("sealed data contains plaintext")
	}
	got, err := kr.Open(s, b)
	if err != nil || string(got) != "sk-live-secret-value" {
		t.Fatalf("Open = %q, %v", got, err)
	}
}

func TestCiphertextBoundToItsRow(t *testing.T) {
	kr, _ := NewKeyring(newKey(t))
	b := Binding{OrgID: "org_1", CredentialID: "cred_1", Field: "api_key"}
	s, _ := kr.Seal([]byte("secret"), b)
	for _, other := range []Binding{
		{OrgID: "org_2", CredentialID: "cred_1", Field: "api_key"},
		{OrgID: "org_1", CredentialID: "cred_2", Field: "api_key"},
		{OrgID: "org_1", CredentialID: "cred_1", Field: "auth_token"},
		{OrgID: "org_1cred_1", CredentialID: "", Field: "api_key"},
	} {
		if _, err := kr.Open(s, other); !errors.Is(err, ErrDecrypt) {
			t.Errorf("Open with %+v: err = %v, want ErrDecrypt", other, err)
		}
	}
}

func TestTamperedCiphertextFails(t *testing.T) {
	kr, _ := NewKeyring(newKey(t))
	b := Binding{OrgID: "o", CredentialID: "c", Field: "api_key"}
	s, _ := kr.Seal([]byte("secret"), b)
	s.Ciphertext[len(s.Ciphertext)-1] ^= 1
	if _, err := kr.Open(s, b); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("err = %v", err)
	}
}

func TestRewrapKeepsCiphertextAndFingerprint(t *testing.T) {
	oldKey, newK := newKey(t), newKey(t)
	oldRing, _ := NewKeyring(oldKey)
	b := Binding{OrgID: "o", CredentialID: "c", Field: "api_key"}
	s, _ := oldRing.Seal([]byte("secret"), b)
	fpSealed, _ := oldRing.NewFingerprintKey()
	fp1, _ := oldRing.OpenFingerprintKey(fpSealed)

	rotating, _ := NewKeyring(newK, oldKey)
	s2, err := rotating.Rewrap(s, b)
	if err != nil {
		t.Fatal(err)
	}
	fpSealed2, err := rotating.RewrapFingerprintKey(fpSealed)
	if err != nil {
		t.Fatal(err)
	}
	if s2.KeyID != KeyID(newK) || !bytes.Equal(s2.Ciphertext, s.Ciphertext) {
		t.Fatalf("rewrap changed the wrong thing: %+v", s2)
	}

	newOnly, _ := NewKeyring(newK)
	if got, err := newOnly.Open(s2, b); err != nil || string(got) != "secret" {
		t.Fatalf("new key alone: %q %v", got, err)
	}
	if _, err := newOnly.Open(s, b); err == nil || !strings.Contains(err.Error(), KeyID(oldKey)) {
		t.Fatalf("old wrapping with new key: err = %v, want one naming the missing key id", err)
	}
	fp2, err := newOnly.OpenFingerprintKey(fpSealed2)
	if err != nil {
		t.Fatal(err)
	}
	in := map[string]string{"api_key": "sk-abc"}
	if fp1.Fingerprint("org_1", in) != fp2.Fingerprint("org_1", in) {
		t.Fatal("fingerprint changed across master-key rotation")
	}
}

func TestFingerprint(t *testing.T) {
	kr, _ := NewKeyring(newKey(t))
	s, _ := kr.NewFingerprintKey()
	f, _ := kr.OpenFingerprintKey(s)
	a := f.Fingerprint("org_1", map[string]string{"api_key": "sk-one"})
	if a == f.Fingerprint("org_1", map[string]string{"api_key": "sk-two"}) {
		t.Fatal("different keys, same fingerprint")
	}
	if a != f.Fingerprint("org_1", map[string]string{"api_key": "sk-one", "auth_token": ""}) {
		t.Fatal("an empty field changed the fingerprint")
	}
	if a == f.Fingerprint("org_1", map[string]string{"auth_token": "sk-one"}) {
		t.Fatal("field name not part of the fingerprint")
	}
	if f.Fingerprint("org_1", nil) != "" {
		t.Fatal("no secret should have no fingerprint")
	}
	if strings.Contains(a, "sk-one") || !strings.HasPrefix(a, FingerprintScheme) {
		t.Fatalf("fingerprint %q", a)
	}
	// The same key in another organisation: nothing in common, so one organisation's state cannot
	// confirm a guess about another's key.
	if b := f.Fingerprint("org_2", map[string]string{"api_key": "sk-one"}); b == a || b[len(FingerprintScheme):len(FingerprintScheme)+8] == a[len(FingerprintScheme):len(FingerprintScheme)+8] {
		t.Fatalf("the same key fingerprints alike in two organisations: %s, %s", a, b)
	}
}

func TestHintNeverShowsMoreThanFourCharacters(t *testing.T) {
	cases := map[string]string{
		"sk-proj-abcdefghijklmnopqrstuvwxyz": "sk-proj-...wxyz",
		"sk-ant-api03-0123456789abcdef":      "sk-ant-...cdef",
		"plainsecretvalue1234":               "...1234",
		"short":                              "****",
		`{"type":"service_account"}`:         "{json}",
		"":                                   "",
	}
	for in, want := range cases {
		if got := Hint(in); got != want {
			t.Errorf("Hint(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMasterKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "master.key")
	k1, created, err := EnsureMasterKeyFile(path)
	if err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	info, _ := os.Stat(path)
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("mode %o, want 600", info.Mode().Perm())
	}
	k2, created, err := EnsureMasterKeyFile(path)
	if err != nil || created || !bytes.Equal(k1, k2) {
		t.Fatalf("reopen: %v %v", created, err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadMasterKeyFile(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable key file: err = %v", err)
	}
}

func TestParseMasterKey(t *testing.T) {
	if _, err := ParseMasterKey("dG9vIHNob3J0"); err == nil || !strings.Contains(err.Error(), "32 bytes") {
		t.Fatalf("short key: %v", err)
	}
	if _, err := ParseMasterKey("not base64 !!"); err == nil {
		t.Fatal("bad base64 accepted")
	}
}

func BenchmarkSeal(b *testing.B) {
	kr, _ := NewKeyring(make([]byte, KeySize))
	bind := Binding{OrgID: "o", CredentialID: "c", Field: "api_key"}
	for b.Loop() {
		if _, err := kr.Seal([]byte("sk-proj-abcdefghijklmnopqrstuvwxyz"), bind); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFingerprint(b *testing.B) {
	kr, _ := NewKeyring(make([]byte, KeySize))
	s, _ := kr.NewFingerprintKey()
	f, _ := kr.OpenFingerprintKey(s)
	in := map[string]string{"api_key": "sk-proj-abcdefghijklmnopqrstuvwxyz"}
	for b.Loop() {
		_ = f.Fingerprint("org_1", in)
	}
}
