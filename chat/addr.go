package chat

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
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

// AddrLimits are the limits per client address and what they have counted. A process makes one
// and gives it to the chat servers of all its towns: a client that spread its connections over
// the towns would otherwise multiply its allowance by their number. A nil *AddrLimits limits
// nothing.
type AddrLimits struct {
	rate  float64 // messages and connections per second; 0: no rate limit
	burst int
	conns int // connections open at once; 0: no bound

	mu     sync.Mutex
	addrs  map[string]*addrLimit
	pruned time.Time // when addrs was last rid of idle addresses
}

type addrLimit struct {
	lim   *rate.Limiter // nil while the rate limit is off
	conns int           // connections open
	seen  time.Time
}

// NewAddrLimits limits each client address to perSecond connections and messages with burst,
// and to conns connections open at once (0 switches either off: load tests behind one address).
// A connection over them is refused before the upgrade (HTTP 429).
func NewAddrLimits(perSecond float64, burst, conns int) *AddrLimits {
	return &AddrLimits{rate: perSecond, burst: burst, conns: conns, addrs: map[string]*addrLimit{}}
}

// allow takes one message or connection of addr from its rate.
func (l *AddrLimits) allow(addr string, now time.Time) bool {
	if l == nil || l.rate <= 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	a := l.addrLocked(addr, now)
	if a.lim == nil {
		a.lim = rate.NewLimiter(rate.Limit(l.rate), l.burst)
	}
	return a.lim.AllowN(now, 1)
}

// open counts a connection of addr, or tells that addr holds conns open already.
func (l *AddrLimits) open(addr string, now time.Time) bool {
	if l == nil || l.conns <= 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	a := l.addrLocked(addr, now)
	if a.conns >= l.conns {
		return false
	}
	a.conns++
	return true
}

// close counts a connection of addr closed.
func (l *AddrLimits) close(addr string, now time.Time) {
	if l == nil || l.conns <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.addrLocked(addr, now).conns--
}

// addrLocked is the record of addr, made on first sight; l.mu is held. Addresses idle for ten
// minutes with no connection open are forgotten, so that the map does not grow without bound;
// the map is looked over at most once a minute, so that a busy server does not walk it on every
// message.
func (l *AddrLimits) addrLocked(addr string, now time.Time) *addrLimit {
	a, ok := l.addrs[addr]
	if !ok {
		a = &addrLimit{}
		l.addrs[addr] = a
	}
	a.seen = now
	if len(l.addrs) > 10000 && now.Sub(l.pruned) > time.Minute {
		l.pruned = now
		for k, v := range l.addrs {
			if v.conns <= 0 && now.Sub(v.seen) > 10*time.Minute {
				delete(l.addrs, k)
			}
		}
	}
	return a
}
