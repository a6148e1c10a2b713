package verify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
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

// egressRule is a range of the special-purpose table and how a refusal names it.
type egressRule struct {
	prefix netip.Prefix
	what   string
	// local: loopback or private, where the embedded server's local model servers (Ollama, vLLM) live;
	// the embedded policy allows these and refuses the rest of the table.
	local bool
	// reachable: the registry's "Globally Reachable" column is True (anycast services, NAT64's
	// well-known prefix): an address there is an ordinary destination, allowed like a public one. It
	// takes a row more specific than a refused one (192.0.0.9/32 in 192.0.0.0/24).
	reachable bool
	// openRange: suggest opening the whole range (10.0.0.0/8) rather than the one address. Ranges that
	// hold metadata services or cannot be a provider (link-local, multicast) suggest the address alone.
	openRange bool
}

func row(cidr, what string, local, reachable, openRange bool) egressRule {
	return egressRule{prefix: netip.MustParsePrefix(cidr), what: what, local: local, reachable: reachable, openRange: openRange}
}

const (
	isLocal, notLocal       = true, false
	reachable, notReachable = true, false
	openRange, openAddrOnly = true, false
)

// specialPurpose is the one table of the ranges the egress policy judges: the IANA IPv4 and IPv6
// Special-Purpose Address Registries (RFC 6890 and the RFCs that added rows since), with multicast and
// broadcast beside them. A row whose "Globally Reachable" column is False is refused (by the embedded
// server too, unless it is local); a row whose column is True is allowed, as the registry says it is
// reachable on the Internet; rows whose column is N/A (deprecated or transition prefixes that carry
// another address: 6to4, Teredo, ORCHID, 6to4 relay anycast) are refused, since what they reach is
// not the address they name. The most specific row holding an address decides. IPv4-mapped addresses
// (::ffff:0:0/96, RFC 4291) and NAT64's well-known prefix (64:ff9b::/96, RFC 6052, globally reachable)
// are judged by the IPv4 address they carry (Check).
var specialPurpose = []egressRule{
	// IPv4 Special-Purpose Address Registry.
	row("0.0.0.0/8", "\"this network\" address, RFC 791", notLocal, notReachable, openAddrOnly),                             // "this network", RFC 791 section 3.2
	row("0.0.0.0/32", "unspecified address", notLocal, notReachable, openAddrOnly),                                          // "this host on this network", RFC 1122 section 3.2.1.3
	row("10.0.0.0/8", "private address, RFC 1918", isLocal, notReachable, openRange),                                        // RFC 1918
	row("100.64.0.0/10", "shared address space (carrier-grade NAT), RFC 6598", isLocal, notReachable, openRange),            // RFC 6598
	row("127.0.0.0/8", "loopback address", isLocal, notReachable, openRange),                                                // RFC 1122 section 3.2.1.3
	row("169.254.0.0/16", "link-local address, where cloud metadata services answer", notLocal, notReachable, openAddrOnly), // RFC 3927
	row("172.16.0.0/12", "private address, RFC 1918", isLocal, notReachable, openRange),                                     // RFC 1918
	row("192.0.0.0/24", "IETF protocol assignment, RFC 6890", notLocal, notReachable, openAddrOnly),                         // RFC 6890 section 2.1
	row("192.0.0.0/29", "IPv4 service continuity prefix, RFC 7335", notLocal, notReachable, openAddrOnly),                   // RFC 7335
	row("192.0.0.8/32", "IPv4 dummy address, RFC 7600", notLocal, notReachable, openAddrOnly),                               // RFC 7600
	row("192.0.0.9/32", "Port Control Protocol anycast, RFC 7723", notLocal, reachable, openAddrOnly),                       // RFC 7723
	row("192.0.0.10/32", "TURN anycast, RFC 8155", notLocal, reachable, openAddrOnly),                                       // RFC 8155
	row("192.0.0.170/31", "NAT64/DNS64 discovery address, RFC 8880", notLocal, notReachable, openAddrOnly),                  // RFC 8880, RFC 7050 (.170 and .171)
	row("192.0.2.0/24", "documentation address (TEST-NET-1), RFC 5737", notLocal, notReachable, openAddrOnly),               // RFC 5737
	row("192.31.196.0/24", "AS112 service, RFC 7535", notLocal, reachable, openAddrOnly),                                    // RFC 7535
	row("192.52.193.0/24", "AMT relay anycast, RFC 7450", notLocal, reachable, openAddrOnly),                                // RFC 7450
	row("192.88.99.0/24", "deprecated 6to4 relay anycast, RFC 7526", notLocal, notReachable, openAddrOnly),                  // RFC 7526 (N/A: deprecated)
	row("192.168.0.0/16", "private address, RFC 1918", isLocal, notReachable, openRange),                                    // RFC 1918
	row("192.175.48.0/24", "AS112 direct delegation service, RFC 7534", notLocal, reachable, openAddrOnly),                  // RFC 7534
	row("198.18.0.0/15", "benchmarking address, RFC 2544", notLocal, notReachable, openRange),                               // RFC 2544
	row("198.51.100.0/24", "documentation address (TEST-NET-2), RFC 5737", notLocal, notReachable, openAddrOnly),            // RFC 5737
	row("203.0.113.0/24", "documentation address (TEST-NET-3), RFC 5737", notLocal, notReachable, openAddrOnly),             // RFC 5737
	row("240.0.0.0/4", "reserved address, RFC 1112", notLocal, notReachable, openAddrOnly),                                  // RFC 1112 section 4
	row("255.255.255.255/32", "broadcast address", notLocal, notReachable, openAddrOnly),                                    // limited broadcast, RFC 8190, RFC 919 section 7
	// Not in the registry, refused as before: IPv4 multicast (RFC 5771).
	row("224.0.0.0/4", "multicast address", notLocal, notReachable, openAddrOnly), // RFC 5771

	// IPv6 Special-Purpose Address Registry.
	row("::1/128", "loopback address", isLocal, notReachable, openRange),                                              // RFC 4291
	row("::/128", "unspecified address", notLocal, notReachable, openAddrOnly),                                        // RFC 4291
	row("64:ff9b:1::/48", "local-use IPv4/IPv6 translation prefix, RFC 8215", notLocal, notReachable, openAddrOnly),   // RFC 8215
	row("100::/64", "discard-only address, RFC 6666", notLocal, notReachable, openAddrOnly),                           // RFC 6666
	row("100:0:0:1::/64", "dummy IPv6 prefix, RFC 9780", notLocal, notReachable, openAddrOnly),                        // RFC 9780
	row("2001::/23", "IETF protocol assignment, RFC 2928", notLocal, notReachable, openAddrOnly),                      // RFC 2928
	row("2001::/32", "Teredo address, RFC 4380", notLocal, notReachable, openAddrOnly),                                // RFC 4380, RFC 8190 (N/A: carries an IPv4 address)
	row("2001:1::1/128", "Port Control Protocol anycast, RFC 7723", notLocal, reachable, openAddrOnly),                // RFC 7723
	row("2001:1::2/128", "TURN anycast, RFC 8155", notLocal, reachable, openAddrOnly),                                 // RFC 8155
	row("2001:1::3/128", "DNS-SD service registration protocol anycast, RFC 9665", notLocal, reachable, openAddrOnly), // RFC 9665
	row("2001:2::/48", "benchmarking address, RFC 5180", notLocal, notReachable, openRange),                           // RFC 5180
	row("2001:3::/32", "AMT, RFC 7450", notLocal, reachable, openAddrOnly),                                            // RFC 7450
	row("2001:4:112::/48", "AS112 service, RFC 7535", notLocal, reachable, openAddrOnly),                              // RFC 7535
	row("2001:10::/28", "deprecated ORCHID prefix, RFC 4843", notLocal, notReachable, openAddrOnly),                   // RFC 4843 (N/A: deprecated)
	row("2001:20::/28", "ORCHIDv2 prefix, RFC 7343", notLocal, reachable, openAddrOnly),                               // RFC 7343
	row("2001:30::/28", "drone remote ID entity tag prefix, RFC 9374", notLocal, reachable, openAddrOnly),             // RFC 9374
	row("2001:db8::/32", "documentation address, RFC 3849", notLocal, notReachable, openAddrOnly),                     // RFC 3849
	row("2002::/16", "6to4 address, RFC 3056", notLocal, notReachable, openAddrOnly),                                  // RFC 3056 (N/A: carries an IPv4 address)
	row("2620:4f:8000::/48", "AS112 direct delegation service, RFC 7534", notLocal, reachable, openAddrOnly),          // RFC 7534
	row("3fff::/20", "documentation address, RFC 9637", notLocal, notReachable, openAddrOnly),                         // RFC 9637
	row("5f00::/16", "segment routing (SRv6) SID, RFC 9602", notLocal, notReachable, openAddrOnly),                    // RFC 9602
	row("fc00::/7", "unique local IPv6 address, RFC 4193", isLocal, notReachable, openRange),                          // RFC 4193, RFC 8190
	row("fe80::/10", "link-local address", notLocal, notReachable, openAddrOnly),                                      // RFC 4291
	// Not in the registry, refused as before: IPv6 multicast (RFC 4291 section 2.7).
	row("ff00::/8", "multicast address", notLocal, notReachable, openAddrOnly), // RFC 4291 section 2.7
}

// ServerEgress is the policy of modelkeys-server serve: every range of the special-purpose table that
// is not globally reachable (loopback, private, shared, link-local, documentation, benchmarking,
// reserved, unspecified, multicast, broadcast, ...) is refused, except within allow (the --egress-allow
// ranges).
func ServerEgress(allow []netip.Prefix) *EgressPolicy {
	return &EgressPolicy{allow: allow, refuse: refusedRules(true)}
}

// EmbeddedEgress is the policy of the Terraform provider's embedded server, which runs on the user's
// own machine beside their local model servers (Ollama, vLLM): loopback and private ranges are
// allowed; the rest of the table (link-local where cloud metadata answers, documentation, reserved,
// unspecified, multicast, broadcast, ...) is not. It is also what a Verifier uses when Options.Egress
// is nil.
func EmbeddedEgress() *EgressPolicy {
	return &EgressPolicy{refuse: refusedRules(false), embedded: true}
}

// refusedRules are the rows of the table a policy refuses, each with the more specific reachable
// rows that carve holes in it, ordered most specific first so that Check's first match decides.
func refusedRules(refuseLocal bool) []egressRule {
	var out []egressRule
	for _, r := range specialPurpose {
		if r.local && !refuseLocal {
			r.reachable = true // allowed here: a hole in any wider refused row
		}
		out = append(out, r)
	}
	slices.SortStableFunc(out, func(a, b egressRule) int { return b.prefix.Bits() - a.prefix.Bits() })
	return out
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
// IPv4-mapped IPv6 addresses (::ffff:10.0.0.1) and NAT64 addresses of the well-known prefix
// (64:ff9b::10.0.0.1) are judged by the IPv4 address they carry; the most specific row of the
// special-purpose table that holds the address decides.
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
		if r.reachable {
			return nil
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

// nat64 is the well-known NAT64 prefix, RFC 6052: globally reachable, it reaches the IPv4 address it carries.
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
