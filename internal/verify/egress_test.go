package verify

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
)

// These tests never dial off loopback: refusals of other ranges are checked on Check and on
// DialContext with a fake resolver and a dialler that records instead of connecting.

func TestEgressServerPolicyRefusesEachRange(t *testing.T) {
	p := ServerEgress(nil)
	for _, tc := range []struct{ ip, what, open string }{
		{"127.0.0.1", "loopback address", "127.0.0.0/8"},
		{"127.8.9.10", "loopback address", "127.0.0.0/8"},
		{"::1", "loopback address", "::1/128"},
		{"10.1.2.3", "private address, RFC 1918", "10.0.0.0/8"},
		{"172.16.0.1", "private address, RFC 1918", "172.16.0.0/12"},
		{"172.31.255.254", "private address, RFC 1918", "172.16.0.0/12"},
		{"192.168.1.1", "private address, RFC 1918", "192.168.0.0/16"},
		{"169.254.169.254", "link-local address, where cloud metadata services answer", "169.254.169.254/32"},
		{"fe80::1", "link-local address", "fe80::1/128"},
		{"fe80::1%eth0", "link-local address", "fe80::1/128"},
		{"100.64.0.1", "shared address space (carrier-grade NAT), RFC 6598", "100.64.0.0/10"},
		{"100.127.255.254", "shared address space (carrier-grade NAT), RFC 6598", "100.64.0.0/10"},
		{"fc00::1", "unique local IPv6 address, RFC 4193", "fc00::/7"},
		{"fd12:3456::1", "unique local IPv6 address, RFC 4193", "fc00::/7"},
		{"0.0.0.0", "unspecified address", "0.0.0.0/32"},
		{"::", "unspecified address", "::/128"},
		{"224.0.0.1", "multicast address", "224.0.0.1/32"},
		{"239.255.255.250", "multicast address", "239.255.255.250/32"},
		{"ff02::1", "multicast address", "ff02::1/128"},
		{"255.255.255.255", "broadcast address", "255.255.255.255/32"},
		// IPv4-mapped IPv6 and NAT64 forms are judged by the IPv4 address they carry.
		{"::ffff:127.0.0.1", "loopback address", "127.0.0.0/8"},
		{"::ffff:10.1.2.3", "private address, RFC 1918", "10.0.0.0/8"},
		{"::ffff:169.254.169.254", "link-local address, where cloud metadata services answer", "169.254.169.254/32"},
		{"::ffff:0.0.0.0", "unspecified address", "0.0.0.0/32"},
		{"64:ff9b::a9fe:a9fe", "link-local address, where cloud metadata services answer", "169.254.169.254/32"},
	} {
		err := p.Check(netip.MustParseAddr(tc.ip))
		var e *EgressError
		if !errors.As(err, &e) {
			t.Errorf("%s: allowed, want refused as %s", tc.ip, tc.what)
			continue
		}
		if e.What != tc.what || e.Open != tc.open {
			t.Errorf("%s: refused as %q (open with %s), want %q (open with %s)", tc.ip, e.What, e.Open, tc.what, tc.open)
		}
		if !strings.Contains(err.Error(), "an operator can allow it with --egress-allow "+tc.open) || !strings.Contains(err.Error(), tc.what) {
			t.Errorf("%s: message %q does not name the rule and the flag", tc.ip, err)
		}
		if !errors.Is(err, api.ErrEgressRefused) {
			t.Errorf("%s: not errors.Is ErrEgressRefused", tc.ip)
		}
	}
	want := "the server does not send keys to 10.1.2.3 (private address, RFC 1918); an operator can allow it with --egress-allow 10.0.0.0/8"
	if got := p.Check(netip.MustParseAddr("10.1.2.3")).Error(); got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
	for _, ip := range []string{"8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2001:4860:4860::8888", "::ffff:8.8.8.8"} {
		if err := p.Check(netip.MustParseAddr(ip)); err != nil {
			t.Errorf("%s (public): %v", ip, err)
		}
	}
}

func TestEgressAllowOpensRanges(t *testing.T) {
	allow, err := ParseEgressAllow("10.0.0.0/8, 127.0.0.0/8,::1/128, 169.254.169.254/32,fd00::/8,::ffff:192.168.0.0/112")
	if err != nil {
		t.Fatal(err)
	}
	p := ServerEgress(allow)
	for _, ip := range []string{"10.1.2.3", "127.0.0.1", "::1", "::ffff:10.9.9.9", "169.254.169.254", "fd00::5", "192.168.7.7"} {
		if err := p.Check(netip.MustParseAddr(ip)); err != nil {
			t.Errorf("%s: %v, want allowed by --egress-allow", ip, err)
		}
	}
	for _, ip := range []string{"172.16.0.1", "169.254.169.253", "fc00::1"} {
		if err := p.Check(netip.MustParseAddr(ip)); err == nil {
			t.Errorf("%s: allowed, but no --egress-allow range holds it", ip)
		}
	}
	for _, bad := range []string{"10.0.0.0", "10.0.0.0/33", "example.com/8", "10.0.0.0/8;rm"} {
		if _, err := ParseEgressAllow(bad); err == nil || !strings.Contains(err.Error(), "not a CIDR range") {
			t.Errorf("ParseEgressAllow(%q) = %v, want a CIDR error", bad, err)
		}
	}
}

func TestEgressEmbeddedPolicy(t *testing.T) {
	p := EmbeddedEgress()
	for _, ip := range []string{"127.0.0.1", "::1", "10.1.2.3", "192.168.1.10", "172.20.0.2", "100.100.1.1", "fd00::1", "8.8.8.8"} {
		if err := p.Check(netip.MustParseAddr(ip)); err != nil {
			t.Errorf("embedded %s: %v, want allowed (local model servers)", ip, err)
		}
	}
	for _, ip := range []string{"169.254.169.254", "::ffff:169.254.169.254", "fe80::1", "0.0.0.0", "224.0.0.251"} {
		err := p.Check(netip.MustParseAddr(ip))
		if err == nil || strings.Contains(err.Error(), "--egress-allow") {
			t.Errorf("embedded %s: %v, want refused without a flag to suggest", ip, err)
		}
	}
}

// fakeNet resolves from a table and records dials instead of making them.
type fakeNet struct {
	hosts map[string][]netip.Addr
	mu    sync.Mutex
	dials []string
}

func (f *fakeNet) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if ips, ok := f.hosts[host]; ok {
		return ips, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

var errFakeDial = errors.New("fake dial")

func (f *fakeNet) dial(_ context.Context, _, address string) (net.Conn, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dials = append(f.dials, address)
	return nil, errFakeDial
}

func (f *fakeNet) dialled() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.dials...)
}

func TestEgressDialChecksResolvedAddresses(t *testing.T) {
	addrs := func(s ...string) []netip.Addr {
		var out []netip.Addr
		for _, a := range s {
			out = append(out, netip.MustParseAddr(a))
		}
		return out
	}
	// Public addresses stand for providers here; fakeNet records the dial and connects nowhere. (The
	// documentation ranges are refused by the policy now, so they cannot play a public address.)
	fn := &fakeNet{hosts: map[string][]netip.Addr{
		"metadata.example":   addrs("169.254.169.254"),
		"internal.example":   addrs("10.1.2.3"),
		"rebind.example":     addrs("10.0.0.7", "8.8.4.4"),
		"mapped.example":     addrs("::ffff:192.168.1.1"),
		"proxy.corp.example": addrs("10.20.30.40"),
		"public.example":     addrs("8.8.8.8"),
		"public6.example":    addrs("2001:4860:4860::8888"),
		"loopback.example":   addrs("127.0.0.1", "::1"),
		"api.openai.example": addrs("1.1.1.1"),
		"trusted-ip.example": addrs("192.168.50.5"),
	}}
	p := ServerEgress(nil).withTrusted(map[string]string{"openai": "https://proxy.corp.example:8443/v1", "anthropic": "http://127.0.0.1:9999"})
	p.resolver, p.dial = fn, fn.dial
	ctx := context.Background()

	for _, tc := range []struct {
		addr, refusedIP string
	}{
		{"metadata.example:443", "169.254.169.254"},
		{"internal.example:443", "10.1.2.3"},
		{"mapped.example:443", "192.168.1.1"},
		{"loopback.example:80", "127.0.0.1"},
		{"10.1.2.3:443", "10.1.2.3"},
		{"[fe80::1%eth0]:443", "fe80::1"},
		{"proxy.corp.example:443", "10.20.30.40"}, // trusted on 8443 only
		{"127.0.0.1:6379", "127.0.0.1"},           // trusted on 9999 only
	} {
		_, err := p.DialContext(ctx, "tcp", tc.addr)
		if tc.refusedIP == "" {
			if err == nil {
				t.Errorf("%s: dialled", tc.addr)
			}
			continue
		}
		e, ok := asEgress(err)
		if !ok || e.Addr.String() != tc.refusedIP {
			t.Errorf("%s: %v, want refused for %s", tc.addr, err, tc.refusedIP)
		}
	}
	if d := fn.dialled(); len(d) != 0 {
		t.Fatalf("refused destinations were dialled: %v", d)
	}

	// Allowed and trusted destinations reach the dialler, by the IP that was checked (or, trusted, as
	// configured); of a name with a refused and an allowed address only the allowed one is dialled.
	for addr, want := range map[string]string{
		"public.example:443":      "8.8.8.8:443",
		"public6.example:443":     "[2001:4860:4860::8888]:443",
		"rebind.example:443":      "8.8.4.4:443",
		"proxy.corp.example:8443": "proxy.corp.example:8443",
		"PROXY.corp.example:8443": "PROXY.corp.example:8443",
		"127.0.0.1:9999":          "127.0.0.1:9999",
	} {
		before := len(fn.dialled())
		if _, err := p.DialContext(ctx, "tcp", addr); !errors.Is(err, errFakeDial) {
			t.Errorf("%s: %v, want it dialled", addr, err)
			continue
		}
		if d := fn.dialled(); len(d) != before+1 || d[before] != want {
			t.Errorf("%s: dialled %v, want %s", addr, d[before:], want)
		}
	}
}

// TestEgressVerifyRefusesLoopbackAndSendsNothing runs the whole verifier against a loopback server
// with the server's default policy: the probe is Blocked and the server sees no connection.
func TestEgressVerifyRefusesLoopbackAndSendsNothing(t *testing.T) {
	var hits atomic.Int32
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(openAIList))
	}))
	ts.Config.ConnState = func(net.Conn, http.ConnState) { hits.Add(1) }
	ts.Start()
	defer ts.Close()
	p, _ := catalog.Provider("custom")
	ctx := context.Background()
	secrets := map[string]string{api.SecretAPIKey: goodKey}

	for _, base := range []string{ts.URL + "/v1", strings.Replace(ts.URL, "127.0.0.1", "localhost", 1) + "/v1"} {
		v := New(Options{Egress: ServerEgress(nil)})
		r := v.Verify(ctx, p, map[string]string{"base_url": base}, secrets)
		if r.OK || r.Refused || !r.Blocked || !strings.Contains(r.Message, "(loopback address); an operator can allow it with --egress-allow") {
			t.Errorf("%s: %+v, want Blocked naming the rule and the flag", base, r)
		}
		_, err := v.ListModels(ctx, p, map[string]string{"base_url": base}, secrets)
		if !errors.Is(err, api.ErrEgressRefused) || !strings.Contains(err.Error(), "--egress-allow") {
			t.Errorf("%s: ListModels = %v, want an egress refusal", base, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the loopback server saw %d connection events; nothing may be sent", n)
	}

	// Opened with --egress-allow, or trusted as the operator's base URL, it is reached.
	v := New(Options{Egress: ServerEgress([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")})})
	if r := v.Verify(ctx, p, map[string]string{"base_url": ts.URL + "/v1"}, secrets); !r.OK {
		t.Errorf("allowed: %+v", r)
	}
	v = New(Options{Egress: ServerEgress(nil), BaseURLs: map[string]string{"custom": ts.URL + "/v1"}})
	if r := v.Verify(ctx, p, nil, secrets); !r.OK {
		t.Errorf("trusted base URL: %+v", r)
	}
	if r := v.Verify(ctx, p, map[string]string{"base_url": ts.URL + "/v1"}, secrets); !r.OK {
		t.Errorf("a setting naming the trusted host and port: %+v", r)
	}
}

func TestEgressTransportIgnoresProxyFromEnvironment(t *testing.T) {
	v := New(Options{Egress: ServerEgress(nil), HTTPClient: &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment}}})
	tr, ok := v.client.Transport.(*http.Transport)
	if !ok || tr.Proxy != nil || tr.DialContext == nil || tr.DialTLSContext != nil {
		t.Fatalf("transport = %#v: it must dial through the egress policy and use no proxy", v.client.Transport)
	}
	if tr, ok := New(Options{}).client.Transport.(*http.Transport); !ok || tr.Proxy != nil || tr.DialContext == nil {
		t.Fatal("the default transport must dial through the egress policy and use no proxy")
	}
}

// TestEgressVertexTokenURI: the key file's token_uri is the editor's input; it may name only Google's
// token endpoint or a host the operator configured, and never carries a query.
func TestEgressVertexTokenURI(t *testing.T) {
	pk, _ := rsa.GenerateKey(rand.Reader, 2048)
	var hits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer other.Close()
	p, _ := catalog.Provider("vertex_ai")
	settings := map[string]string{"project_id": "my-gcp-project", "location": "us-central1"}
	v := New(Options{BaseURLs: map[string]string{"vertex_ai": "https://vertex.example"}})
	for tokenURI, want := range map[string]string{
		other.URL + "/token":                       "exchanges service-account tokens only at https://oauth2.googleapis.com/token",
		"https://169.254.169.254/computeMetadata":  "exchanges service-account tokens only at",
		"https://oauth2.googleapis.com/token?x=":   "must not contain a query",
		"https://oauth2.googleapis.com/token#":     "must not contain a fragment",
		"https://u@oauth2.googleapis.com/token":    "user name or password",
		"http://oauth2.googleapis.com/token":       "must use https",
		"https://oauth2.googleapis.com.evil/token": "exchanges service-account tokens only at",
	} {
		r := v.Verify(context.Background(), p, settings, map[string]string{api.SecretAPIKey: serviceAccountJSON(t, pk, tokenURI)})
		if !r.Refused || !strings.Contains(r.Message, want) {
			t.Errorf("token_uri %s: %+v, want a refusal with %q", tokenURI, r, want)
		}
	}
	if hits.Load() != 0 {
		t.Fatal("a token_uri the server refuses received a request")
	}
}

// TestVerifyURLsRefuseQueryFragmentUserinfo: the server's own base URLs and a credential's setting
// (checked again here, as the verifier may be called without the catalog's validation) cannot carry a
// query, a fragment or user info, which would swallow the probe's path.
func TestVerifyURLsRefuseQueryFragmentUserinfo(t *testing.T) {
	for _, spec := range []string{
		"openai=https://proxy.example.com/v1?x=", "openai=https://proxy.example.com/v1?", "openai=https://proxy.example.com/v1#",
		"openai=https://proxy.example.com/v1#x", "openai=https://user:pw@proxy.example.com/v1", "openai=https://user@proxy.example.com",
	} {
		if _, err := ParseBaseURLs(spec); err == nil {
			t.Errorf("ParseBaseURLs(%q) accepted it", spec)
		}
	}
	var hits atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer ts.Close()
	p, _ := catalog.Provider("custom")
	for _, base := range []string{ts.URL + "/admin#", ts.URL + "/admin?x=", ts.URL + "/admin?", "http://u:p@" + strings.TrimPrefix(ts.URL, "http://")} {
		r := New(Options{}).Verify(context.Background(), p, map[string]string{"base_url": base}, map[string]string{api.SecretAPIKey: goodKey})
		if r.OK || !strings.Contains(r.Message, "must not contain") {
			t.Errorf("base_url %q: %+v", base, r)
		}
	}
	if hits.Load() != 0 {
		t.Fatal("a refused base_url received a request")
	}
}

// TestEgressSpecialPurposeRanges: every range of the IANA special-purpose registries that is not
// globally reachable is refused on serve, and by the embedded server unless it is loopback or
// private; the rows the registry marks globally reachable are allowed, even inside a refused range.
// Decided on Check alone: nothing is dialled.
func TestEgressSpecialPurposeRanges(t *testing.T) {
	server, embedded := ServerEgress(nil), EmbeddedEgress()
	for _, tc := range []struct {
		ip, what string
		local    bool // allowed by the embedded server
	}{
		{"0.1.2.3", `"this network" address, RFC 791`, false},
		{"192.0.0.1", "IPv4 service continuity prefix, RFC 7335", false},
		{"192.0.0.8", "IPv4 dummy address, RFC 7600", false},
		{"192.0.0.100", "IETF protocol assignment, RFC 6890", false},
		{"192.0.0.171", "NAT64/DNS64 discovery address, RFC 8880", false},
		{"192.0.2.10", "documentation address (TEST-NET-1), RFC 5737", false},
		{"192.88.99.1", "deprecated 6to4 relay anycast, RFC 7526", false},
		{"198.18.0.1", "benchmarking address, RFC 2544", false},
		{"198.19.255.254", "benchmarking address, RFC 2544", false},
		{"198.51.100.7", "documentation address (TEST-NET-2), RFC 5737", false},
		{"203.0.113.9", "documentation address (TEST-NET-3), RFC 5737", false},
		{"240.0.0.1", "reserved address, RFC 1112", false},
		{"254.255.255.255", "reserved address, RFC 1112", false},
		{"::ffff:203.0.113.9", "documentation address (TEST-NET-3), RFC 5737", false},
		{"64:ff9b::c000:20a", "documentation address (TEST-NET-1), RFC 5737", false}, // NAT64 of 192.0.2.10
		{"64:ff9b:1::a00:1", "local-use IPv4/IPv6 translation prefix, RFC 8215", false},
		{"100::1", "discard-only address, RFC 6666", false},
		{"100:0:0:1::1", "dummy IPv6 prefix, RFC 9780", false},
		{"2001::1", "Teredo address, RFC 4380", false},
		{"2001:1::4", "IETF protocol assignment, RFC 2928", false},
		{"2001:2::1", "benchmarking address, RFC 5180", false},
		{"2001:10::1", "deprecated ORCHID prefix, RFC 4843", false},
		{"2001:1ff::1", "IETF protocol assignment, RFC 2928", false},
		{"2001:db8::1", "documentation address, RFC 3849", false},
		{"2002:a00:1::1", "6to4 address, RFC 3056", false},
		{"3fff::1", "documentation address, RFC 9637", false},
		{"3fff:fff::1", "documentation address, RFC 9637", false},
		{"5f00::1", "segment routing (SRv6) SID, RFC 9602", false},
		{"127.0.0.1", "loopback address", true},
		{"10.0.0.1", "private address, RFC 1918", true},
		{"100.64.0.1", "shared address space (carrier-grade NAT), RFC 6598", true},
		{"fd00::1", "unique local IPv6 address, RFC 4193", true},
	} {
		ip := netip.MustParseAddr(tc.ip)
		var e *EgressError
		if err := server.Check(ip); !errors.As(err, &e) || e.What != tc.what {
			t.Errorf("serve %s: %v, want refused as %s", tc.ip, err, tc.what)
		} else if !strings.Contains(err.Error(), "--egress-allow") {
			t.Errorf("serve %s: %q does not say how to open it", tc.ip, err)
		}
		err := embedded.Check(ip)
		if tc.local && err != nil {
			t.Errorf("embedded %s: %v, want allowed (local model servers)", tc.ip, err)
		}
		if !tc.local && (!errors.As(err, &e) || e.What != tc.what) {
			t.Errorf("embedded %s: %v, want refused as %s", tc.ip, err, tc.what)
		}
	}
	// Globally reachable rows of the registries, and public addresses beside the refused ranges.
	for _, ip := range []string{
		"192.0.0.9", "192.0.0.10", "192.31.196.1", "192.52.193.1", "192.175.48.1", // anycast and AS112 rows marked reachable
		"2001:1::1", "2001:1::2", "2001:1::3", "2001:3::1", "2001:4:112::1", "2001:20::1", "2001:30::1", "2620:4f:8000::1",
		"64:ff9b::808:808", // NAT64 of 8.8.8.8: the well-known prefix is reachable, judged by the address it carries
		"192.0.1.255", "192.0.3.0", "198.17.255.255", "198.20.0.0", "198.51.99.255", "203.0.112.255",
		"2001:200::1", "2001:db9::1", "3fff:1000::1", "2003::1", "2a00:1450:4001::1",
	} {
		addr, err := netip.ParseAddr(ip)
		if err != nil {
			t.Fatal(err)
		}
		if err := server.Check(addr); err != nil {
			t.Errorf("serve %s: %v, want allowed (globally reachable)", ip, err)
		}
		if err := embedded.Check(addr); err != nil {
			t.Errorf("embedded %s: %v, want allowed (globally reachable)", ip, err)
		}
	}
	// --egress-allow opens a special-purpose range on serve, as it opens a private one.
	allow, err := ParseEgressAllow("198.18.0.0/15,2001:db8::/32")
	if err != nil {
		t.Fatal(err)
	}
	for _, ip := range []string{"198.18.5.5", "2001:db8::5"} {
		if err := ServerEgress(allow).Check(netip.MustParseAddr(ip)); err != nil {
			t.Errorf("serve --egress-allow %s: %v, want allowed", ip, err)
		}
	}
}

// TestEgressTableRowsAreWellFormed: every row is a masked prefix with a reason, and no two rows name
// the same range, so the most specific row is the only one that decides.
func TestEgressTableRowsAreWellFormed(t *testing.T) {
	seen := map[netip.Prefix]bool{}
	for _, r := range specialPurpose {
		if r.prefix != r.prefix.Masked() || r.what == "" || seen[r.prefix] {
			t.Errorf("row %s (%q): not masked, without a reason, or twice", r.prefix, r.what)
		}
		seen[r.prefix] = true
	}
}
