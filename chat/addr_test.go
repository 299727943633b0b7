package chat

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestClientAddr(t *testing.T) {
	trusted, err := ParseTrustedProxies("127.0.0.1, 10.0.0.0/8, ::1")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, remote, xff, realIP, want string
	}{
		{"direct client", "203.0.113.7:5000", "", "", "203.0.113.7"},
		{"untrusted peer cannot claim another address", "203.0.113.7:5000", "198.51.100.1", "", "203.0.113.7"},
		{"trusted proxy", "127.0.0.1:5000", "198.51.100.1", "", "198.51.100.1"},
		{"chain of trusted proxies", "127.0.0.1:5000", "198.51.100.1, 10.1.2.3", "", "198.51.100.1"},
		{"spoofed left part of the chain is not believed", "127.0.0.1:5000", "1.1.1.1, 198.51.100.1", "", "198.51.100.1"},
		{"X-Real-IP from a trusted proxy", "[::1]:5000", "", "198.51.100.9", "198.51.100.9"},
		{"garbled chain: the proxy itself", "127.0.0.1:5000", "not-an-ip", "", "127.0.0.1"},
		{"IPv6 clients count by their /64", "[2001:db8:1:2:aaaa::1]:5000", "", "", "2001:db8:1:2::/64"},
		{"trusted proxy without headers", "10.0.0.5:5000", "", "", "10.0.0.5"},
	} {
		r := httptest.NewRequest("GET", "/ws", nil)
		r.RemoteAddr = c.remote
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if c.realIP != "" {
			r.Header.Set("X-Real-IP", c.realIP)
		}
		if got := clientAddr(r, trusted); got != c.want {
			t.Errorf("%s: clientAddr = %q, want %q", c.name, got, c.want)
		}
	}
	if _, err := ParseTrustedProxies("10.0.0.0/33"); err == nil {
		t.Error("a bad prefix was accepted")
	}
}

// Behind a trusted proxy, citizens are limited each by their own address, not all together by
// the proxy's.
func TestAddressLimitsBehindProxy(t *testing.T) {
	trusted, _ := ParseTrustedProxies("127.0.0.1, ::1")
	h := newHarness(t, ServerConfig{Addrs: NewAddrLimits(0.001, 1, 0), TrustedProxies: trusted})
	dial := func(client string) int {
		hdr := http.Header{"X-Forwarded-For": {client}}
		c, resp, err := h.dial(t, "", hdr)
		if err != nil {
			if resp == nil {
				t.Fatal(err)
			}
			return resp.StatusCode
		}
		c.Close()
		return http.StatusSwitchingProtocols
	}
	if got := dial("198.51.100.1"); got != http.StatusSwitchingProtocols {
		t.Fatalf("first citizen: %d", got)
	}
	if got := dial("198.51.100.2"); got != http.StatusSwitchingProtocols {
		t.Errorf("second citizen behind the same proxy: %d, want a connection", got)
	}
	if got := dial("198.51.100.1"); got != http.StatusTooManyRequests {
		t.Errorf("first citizen again, over its limit: %d, want 429", got)
	}
}
