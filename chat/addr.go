package chat

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientAddr is the key of the client's address for rate limits; it is never stored. Behind a
// reverse proxy (which terminates TLS for most cities) every connection comes from the proxy, so
// when the peer is one of the trusted proxies the client is the last address in
// X-Forwarded-For that is not itself a trusted proxy, or X-Real-IP. Headers from other peers
// are ignored: anyone can write them. An IPv6 client counts by its /64, which one household or
// one attacker holds whole.
func clientAddr(r *http.Request, trusted []netip.Prefix) string {
	peer := remoteIP(r.RemoteAddr)
	if peer.IsValid() && isTrusted(peer, trusted) {
		if client, ok := forwardedClient(r.Header, trusted); ok {
			peer = client
		}
	}
	if !peer.IsValid() {
		return r.RemoteAddr
	}
	if peer.Is6() && !peer.Is4In6() {
		p, _ := peer.Prefix(64)
		return p.String()
	}
	return peer.Unmap().String()
}

func remoteIP(remoteAddr string) netip.Addr {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return ip.Unmap()
}

func isTrusted(ip netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// forwardedClient reads the client's address from the proxy's headers: X-Forwarded-For from the
// right (proxies append), skipping the trusted proxies of a chain, else X-Real-IP.
func forwardedClient(h http.Header, trusted []netip.Prefix) (netip.Addr, bool) {
	var hops []string
	for _, v := range h.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		ip, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return netip.Addr{}, false // a garbled chain names no one reliably
		}
		if ip = ip.Unmap(); !isTrusted(ip, trusted) {
			return ip, true
		}
	}
	if ip, err := netip.ParseAddr(strings.TrimSpace(h.Get("X-Real-IP"))); err == nil {
		return ip.Unmap(), true
	}
	return netip.Addr{}, false
}

// ParseTrustedProxies reads a comma-separated list of addresses and CIDR prefixes
// ("127.0.0.1, 10.0.0.0/8, ::1").
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if strings.Contains(f, "/") {
			p, err := netip.ParsePrefix(f)
			if err != nil {
				return nil, err
			}
			out = append(out, p.Masked())
			continue
		}
		ip, err := netip.ParseAddr(f)
		if err != nil {
			return nil, err
		}
		ip = ip.Unmap()
		out = append(out, netip.PrefixFrom(ip, ip.BitLen()))
	}
	return out, nil
}
