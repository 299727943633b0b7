package main

import (
	"math"
	"strings"
	"testing"
	"time"
)

// fuzzedVars are the variables FuzzLoadConfig sets, in the order of the fuzz arguments.
var fuzzedVars = []string{envFetchTimeout, envMaxPageBytes, envWorkers, envMinConf, envRetention, envConnLimits,
	envAddrLimits, envProxies, envDBConns, envLLMTimeout, envOrigins, envRerankURL}

// FuzzLoadConfig: any values of the numbers, durations, limits, lists and URLs give either a
// configuration whose values are usable (positive, finite, in range) or an error naming a
// variable that was set; never a panic.
func FuzzLoadConfig(f *testing.F) {
	f.Add("20s", "5242880", "4", "0.25", "90", "2,5", "10,60", "127.0.0.1,10.0.0.0/8", "8", "30s", "https://a.example, https://b.example", "")
	f.Add("1ms", "1", "1", "0", "1", "0.5,1", "off", "::1,fd00::/8", "1", "1h", "", "http://tei:8080")
	f.Add("-1s", "0", "-4", "1.5", "0", "2", "OFF", "10.0.0.0/33", "0", "0", ",,,", "https://api.example/v1")
	f.Add("NaN", "9223372036854775808", "1e3", "NaN", "106752", "NaN,5", "Inf,1", "::ffff:1.2.3.4", "99999999999", "9223372036854775807ns", "*", "::/")
	f.Add("", "", "", "", "", "", "", "", "", "", "", "")
	f.Fuzz(func(t *testing.T, fetch, maxBytes, workers, minConf, retention, connLimits, addrLimits, proxies, dbConns, llmTimeout, origins, rerankURL string) {
		vals := []string{fetch, maxBytes, workers, minConf, retention, connLimits, addrLimits, proxies, dbConns, llmTimeout, origins, rerankURL}
		vars := map[string]string{}
		for i, k := range fuzzedVars {
			vars[k] = vals[i]
		}
		// NAME_FILE variables stay unset: the fuzzer reads no files.
		c, err := loadConfig(func(k string) string { return vars[k] })
		if err != nil {
			named := false
			for k, v := range vars {
				if v != "" && strings.HasPrefix(err.Error(), k) {
					named = true
				}
			}
			if !named {
				t.Fatalf("error %q names no variable that was set", err)
			}
			return
		}
		finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
		switch {
		case c.FetchTimeout <= 0, c.LLMTimeout <= 0, c.RerankTimeout <= 0, c.Retention <= 0:
			t.Fatalf("a duration not positive: %+v", c)
		case c.MaxPageBytes <= 0, c.Workers <= 0, c.DBConns <= 0:
			t.Fatalf("a count not positive: %+v", c)
		case !finite(c.MinConf) || c.MinConf < 0 || c.MinConf > 1:
			t.Fatalf("%s = %v", envMinConf, c.MinConf)
		case !finite(c.ConnRate) || c.ConnRate <= 0 || c.ConnBurst < 1:
			t.Fatalf("%s = %v,%v", envConnLimits, c.ConnRate, c.ConnBurst)
		case !finite(c.AddrRate) || c.AddrRate < 0 || c.AddrRate > 0 && c.AddrBurst < 1:
			t.Fatalf("%s = %v,%v", envAddrLimits, c.AddrRate, c.AddrBurst)
		}
		for _, o := range c.Origins {
			if o == "" || o != strings.TrimSpace(o) {
				t.Fatalf("origin %q", o)
			}
		}
		for _, p := range c.Proxies {
			if !p.IsValid() || p != p.Masked() {
				t.Fatalf("proxy prefix %v", p)
			}
		}
	})
}

// Found by FuzzLoadConfig: strconv reads NaN and Inf, which slipped past the range checks (NaN
// compares false with everything): a minimum confidence of NaN let every answer through as
// confident, a rate of NaN or Inf turned the message limit off. Retention days beyond what a
// Duration holds wrapped round to a negative retention.
func TestConfigRejectsNonFiniteAndOverflowingValues(t *testing.T) {
	for _, kv := range [][2]string{
		{envMinConf, "NaN"}, {envMinConf, "Inf"}, {envConnLimits, "NaN,5"}, {envConnLimits, "Inf,5"},
		{envConnLimits, "-Inf,5"}, {envAddrLimits, "NaN,5"}, {envAddrLimits, "+Inf,60"}, {envRetention, "106752"},
		{envRetention, "36501"},
	} {
		_, err := loadConfig(func(key string) string {
			if key == kv[0] {
				return kv[1]
			}
			return ""
		})
		if err == nil || !strings.HasPrefix(err.Error(), kv[0]) {
			t.Errorf("%s=%s: got %v, want an error naming %s", kv[0], kv[1], err, kv[0])
		}
	}
	c, err := loadConfig(func(key string) string {
		return map[string]string{envRetention: "36500", envMinConf: "1", envAddrLimits: "off"}[key]
	})
	if err != nil || c.Retention != 36500*24*time.Hour || c.MinConf != 1 || c.AddrRate != 0 {
		t.Fatalf("%+v %v", c, err)
	}
}
