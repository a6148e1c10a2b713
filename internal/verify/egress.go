package verify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// EgressPolicy decides which addresses the verifier may connect to. Every request a Verifier sends
// (probes, model lists, Vertex token exchanges) dials through it, and the check is made on the address
// actually dialled, after DNS, so neither a host name nor a redirect nor a proxy can route around it:
// redirects are not followed and no proxy from the environment is used.
//
// An address is allowed when an operator opened a range holding it (--egress-allow), and otherwise
// refused when it falls in one of the policy's refused ranges. Hosts the operator configured as base
// URLs (--provider-base-url, MODELKEYS_PROVIDER_BASE_URLS) are trusted by host and port whatever they
// resolve to: the operator chose them.
type EgressPolicy struct {
	refuse   []egressRule
	allow    []netip.Prefix
	embedded bool            // words the refusal for the embedded server, which has no flags
	trusted  map[string]bool // "host:port", lower case

	// resolver and dial are replaced by tests, which must not send packets off loopback.
	resolver resolver
	dial     func(ctx context.Context, network, address string) (net.Conn, error)
}

// resolver is the part of *net.Resolver the policy uses.
type resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// egressRule is a refused range and how a refusal names it.
type egressRule struct {
	prefix netip.Prefix
	what   string
	// openRange: suggest opening the whole range (10.0.0.0/8) rather than the one address. Ranges that
	// hold metadata services or cannot be a provider (link-local, multicast) suggest the address alone.
	openRange bool
}

func rule(cidr, what string, openRange bool) egressRule {
	return egressRule{prefix: netip.MustParsePrefix(cidr), what: what, openRange: openRange}
}

var (
	loopbackRules = []egressRule{
		rule("127.0.0.0/8", "loopback address", true),
		rule("::1/128", "loopback address", true),
	}
	privateRules = []egressRule{
		rule("10.0.0.0/8", "private address, RFC 1918", true),
		rule("172.16.0.0/12", "private address, RFC 1918", true),
		rule("192.168.0.0/16", "private address, RFC 1918", true),
		rule("100.64.0.0/10", "shared address space (carrier-grade NAT), RFC 6598", true),
		rule("fc00::/7", "unique local IPv6 address, RFC 4193", true),
	}
	// alwaysRules are refused in embedded mode too: nothing there is a model provider, and
	// 169.254.169.254 (and fd00:ec2::254) are where cloud metadata services hand out credentials.
	alwaysRules = []egressRule{
		rule("169.254.0.0/16", "link-local address, where cloud metadata services answer", false),
		rule("fe80::/10", "link-local address", false),
		rule("0.0.0.0/8", "unspecified address", false),
		rule("::/128", "unspecified address", false),
		rule("224.0.0.0/4", "multicast address", false),
		rule("ff00::/8", "multicast address", false),
		rule("255.255.255.255/32", "broadcast address", false),
	}
)

// ServerEgress is the policy of modelkeys-server serve: loopback, private (RFC 1918, RFC 4193), shared
// (100.64.0.0/10), link-local, unspecified, multicast and broadcast addresses are refused, except
// within allow (the --egress-allow ranges).
func ServerEgress(allow []netip.Prefix) *EgressPolicy {
	p := &EgressPolicy{allow: allow}
	p.refuse = append(p.refuse, loopbackRules...)
	p.refuse = append(p.refuse, privateRules...)
	p.refuse = append(p.refuse, alwaysRules...)
	return p
}

// EmbeddedEgress is the policy of the Terraform provider's embedded server, which runs on the user's
// own machine beside their local model servers (Ollama, vLLM): loopback and private ranges are
// allowed; link-local (cloud metadata), unspecified, multicast and broadcast addresses are not.
// It is also what a Verifier uses when Options.Egress is nil.
func EmbeddedEgress() *EgressPolicy {
	return &EgressPolicy{refuse: append([]egressRule(nil), alwaysRules...), embedded: true}
}

// ParseEgressAllow reads a comma-separated list of CIDR ranges ("10.0.0.0/8,fd00::/8").
func ParseEgressAllow(spec string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR range; write it as an address and a prefix length, such as 10.0.0.0/8, 192.168.1.20/32 or fd00::/8", part)
		}
		out = append(out, unmapPrefix(p.Masked()))
	}
	return out, nil
}

// unmapPrefix turns ::ffff:10.0.0.0/104 into 10.0.0.0/8, so that it matches unmapped addresses.
func unmapPrefix(p netip.Prefix) netip.Prefix {
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p
}

// EgressError is a destination the policy refused. Nothing was sent to it.
type EgressError struct {
	Addr netip.Addr
	What string // the rule: "private address, RFC 1918"
	Open string // the --egress-allow value that would allow it; "" in embedded mode
}

func (e *EgressError) Error() string {
	if e.Open == "" {
		return fmt.Sprintf("the server does not send keys to %s (%s); the embedded server never does", e.Addr, e.What)
	}
	return fmt.Sprintf("the server does not send keys to %s (%s); an operator can allow it with --egress-allow %s", e.Addr, e.What, e.Open)
}

// Is makes errors.Is(err, api.ErrEgressRefused) true, so the server can tell the refusal apart.
func (e *EgressError) Is(target error) bool { return target == api.ErrEgressRefused }

// Check says whether the policy allows connecting to ip: nil, or an *EgressError naming the rule.
// IPv4-mapped IPv6 addresses (::ffff:10.0.0.1) and NAT64 addresses (64:ff9b::10.0.0.1) are judged
// by the IPv4 address they carry.
func (p *EgressPolicy) Check(ip netip.Addr) error {
	ip = ip.WithZone("")
	if ip.Is4In6() {
		ip = ip.Unmap()
	}
	if nat64.Contains(ip) {
		b := ip.As16()
		ip = netip.AddrFrom4([4]byte(b[12:]))
	}
	for _, a := range p.allow {
		if a.Contains(ip) {
			return nil
		}
	}
	for _, r := range p.refuse {
		if !r.prefix.Contains(ip) {
			continue
		}
		e := &EgressError{Addr: ip, What: r.what}
		if !p.embedded {
			e.Open = netip.PrefixFrom(ip, ip.BitLen()).String()
			if r.openRange {
				e.Open = r.prefix.String()
			}
		}
		return e
	}
	return nil
}

var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// withTrusted returns a copy of p that trusts the hosts of baseURLs (by host and port).
func (p *EgressPolicy) withTrusted(baseURLs map[string]string) *EgressPolicy {
	c := *p
	c.trusted = map[string]bool{}
	for k := range p.trusted {
		c.trusted[k] = true
	}
	for _, raw := range baseURLs {
		if hp := hostPort(raw); hp != "" {
			c.trusted[hp] = true
		}
	}
	return &c
}

// hostPort is the "host:port" a URL dials, as http.Transport writes it.
func hostPort(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return ""
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"https": "443", "http": "80"}[u.Scheme]
	}
	return strings.ToLower(net.JoinHostPort(u.Hostname(), port))
}

// DialContext resolves address, checks every address it resolves to, and dials the first allowed one
// by its IP, so that the address checked is the address connected to (no second lookup to rebind).
// A trusted host is dialled as it is.
func (p *EgressPolicy) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	if p.trusted[strings.ToLower(address)] {
		if p.dial != nil {
			return p.dial(ctx, network, address)
		}
		return (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext(ctx, network, address)
	}
	dial := p.dial
	if dial == nil {
		dial = p.dialer().DialContext
	}
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip}
	} else {
		var r resolver = net.DefaultResolver
		if p.resolver != nil {
			r = p.resolver
		}
		if ips, err = r.LookupNetIP(ctx, "ip", host); err != nil {
			return nil, err
		}
	}
	var refused, failed error
	for _, ip := range ips {
		if err := p.Check(ip); err != nil {
			if refused == nil {
				refused = err
			}
			continue
		}
		conn, err := dial(ctx, network, net.JoinHostPort(ip.WithZone("").String(), port))
		if err == nil {
			return conn, nil
		}
		failed = err
	}
	if failed != nil {
		return nil, failed
	}
	if refused != nil {
		return nil, refused
	}
	return nil, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
}

// dialer checks the address again just before connecting: DialContext already dials a checked IP,
// and this keeps it so if that code changes.
func (p *EgressPolicy) dialer() *net.Dialer {
	return &net.Dialer{
		Timeout:   30 * time.Second,
		KeepAlive: 30 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("egress check: cannot read the address %q", address)
			}
			return p.Check(ap.Addr())
		},
	}
}

// asEgress finds an egress refusal in err's chain.
func asEgress(err error) (*EgressError, bool) {
	var e *EgressError
	ok := errors.As(err, &e)
	return e, ok
}
