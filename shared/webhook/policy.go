package webhook

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/atlas-network-tokens/atlas/shared/fault"
)

// MaxURLLength is the longest endpoint URL accepted.
const MaxURLLength = 2048

// Policy decides which endpoint URLs are accepted and which addresses the
// dispatcher may connect to.
//
// The dispatcher runs inside our AWS account, so an endpoint URL is a
// request we make on a merchant's behalf. To keep that from reaching what
// only we can reach (server-side request forgery), a Policy refuses URLs
// whose host is an address in a private, shared, link-local or otherwise
// reserved range (10/8, 172.16/12, 192.168/16, 100.64/10, 169.254/16,
// fc00::/7, fe80::/10, …), and, unless AllowLoopback, loopback hosts.
// A host name can resolve to such an address, or change to one after
// registration, so the client from NewClient checks every address again
// when it connects, and does not follow redirects.
type Policy struct {
	// AllowLoopback admits loopback hosts (127.0.0.0/8, ::1, localhost),
	// over plain http as well as https, for local receivers of the dev
	// server and tests. Leave it off wherever the dispatcher runs in
	// Lambda: loopback there is the Lambda runtime API, not the merchant.
	AllowLoopback bool
}

// Check returns nil for an acceptable endpoint URL, or a fault.ErrInvalid
// on the param "url" that says what is wrong: it must be an absolute https
// URL of at most MaxURLLength characters, without credentials or fragment,
// whose host is not a reserved address.
func (p Policy) Check(raw string) error {
	if len(raw) > MaxURLLength {
		return errURL(fmt.Sprintf("url must be at most %d characters.", MaxURLLength))
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Opaque != "" || u.Hostname() == "" {
		return errURL("url must be an absolute URL such as https://example.com/webhooks.")
	}
	if u.User != nil {
		return errURL("url must not contain credentials.")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return errURL("url must not contain a fragment.")
	}

	scheme := strings.ToLower(u.Scheme)
	if loopbackHost(u.Hostname()) {
		if !p.AllowLoopback {
			return errURL("url must not point at a loopback address.")
		}
		if scheme != "https" && scheme != "http" {
			return errURL("url must use https.")
		}
		return nil
	}
	if scheme != "https" {
		return errURL("url must use https.")
	}
	if addr, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); err == nil && reserved(addr) {
		return errURL("url must not point at a private or reserved address.")
	}
	return nil
}

func errURL(msg string) error { return fault.Param(fault.ErrInvalid, "invalid_url", "url", msg) }

// loopbackHost reports whether a URL host names this machine.
func loopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Unmap().IsLoopback()
}

// reservedPrefixes are ranges no merchant endpoint can legitimately be in,
// beyond what netip's Is* methods cover.
var reservedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and broadcast
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64, can reach private IPv4
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("fec0::/10"),       // deprecated site-local
	netip.MustParsePrefix("100::/64"),        // discard-only
	netip.MustParsePrefix("2002::/16"),       // 6to4, can embed private IPv4
	netip.MustParsePrefix("2001::/32"),       // Teredo, can embed private IPv4
	netip.MustParsePrefix("::ffff:0:0:0/96"), // IPv4-translated
}

// reserved reports whether addr is loopback, private, link-local,
// unspecified, multicast or in reservedPrefixes.
func reserved(addr netip.Addr) bool {
	addr = addr.Unmap()
	if addr.IsLoopback() || addr.IsPrivate() || addr.IsUnspecified() || addr.IsMulticast() ||
		addr.IsLinkLocalUnicast() || addr.IsLinkLocalMulticast() ||
		addr.IsInterfaceLocalMulticast() {
		return true
	}
	for _, p := range reservedPrefixes {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// errBlockedAddress is the dial error for an address the Policy refuses.
var errBlockedAddress = errors.New("webhook: endpoint resolves to a refused address")

// allowDial is the dialer's last look at the resolved address, made after
// DNS and before the connection opens.
func (p Policy) allowDial(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return errBlockedAddress
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return errBlockedAddress
	}
	if p.AllowLoopback && addr.Unmap().IsLoopback() {
		return nil
	}
	if reserved(addr) {
		return errBlockedAddress
	}
	return nil
}

// DefaultTimeout bounds one delivery attempt: connect, send, and read the
// response headers.
const DefaultTimeout = 5 * time.Second

// NewClient returns the HTTP client deliveries go through. It connects only
// to addresses the policy allows, ignores proxy settings of the
// environment, gives each attempt DefaultTimeout, and returns a redirect as
// the response instead of following it (a 3xx is a failed delivery).
func NewClient(p Policy) *http.Client {
	dialer := &net.Dialer{Timeout: DefaultTimeout, Control: p.allowDial}
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   DefaultTimeout,
		ResponseHeaderTimeout: DefaultTimeout,
		MaxIdleConns:          32,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       30 * time.Second,
	}
	return &http.Client{
		Transport: transport,
		Timeout:   DefaultTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
