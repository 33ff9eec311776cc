package main

import (
	"strings"
	"testing"
	"time"

	"github.com/friendspizzahut/platform/shared/config"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadConfigDefaults(t *testing.T) {
	t.Parallel()
	c, err := loadConfig(env(map[string]string{"REDIS_URL": "redis://127.0.0.1:6379/0"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 5002 || c.PingInterval != 25*time.Second || c.PingTimeout != 20*time.Second ||
		c.MaxHTTPBufferSize != 1_000_000 || c.RequireToken || len(c.CORSOrigins) != 1 || c.CORSOrigins[0] != "*" ||
		c.OrderAPIURL != "http://127.0.0.1:5001" || c.JWTSecret != config.DevJWTSecret || len(c.warnings) != 2 || c.Engine != "eio" ||
		strings.Join(c.TokenlessRoles, ",") != "customer,delivery" ||
		c.RecoveryWindow != 2*time.Minute || c.DrainDelay != 5*time.Second || c.DrainWindow != 10*time.Second || c.InternalURL != "" {
		t.Fatalf("got %+v", c)
	}
}

func TestLoadConfigTokenlessRoles(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		roles, require, want string
	}{
		{"", "", "customer,delivery"},
		{"customer", "", "customer"},
		{" admin , customer,admin", "", "admin,customer"},
		{"none", "", ""},
		{"customer,delivery", "true", ""}, // proof required: nothing is tokenless
	} {
		c, err := loadConfig(env(map[string]string{"REDIS_URL": "redis://127.0.0.1:6379/0",
			"GATEWAY_TOKENLESS_ROLES": tt.roles, "GATEWAY_REQUIRE_TOKEN": tt.require}))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(c.TokenlessRoles, ","); got != tt.want || c.TokenlessRoles == nil {
			t.Errorf("%q require=%q: got %q, want %q", tt.roles, tt.require, got, tt.want)
		}
	}
}

func TestLoadConfigReportsEveryProblem(t *testing.T) {
	t.Parallel()
	_, err := loadConfig(env(map[string]string{
		"PORT":                    "http",
		"ORDERAPI_URL":            "ftp://x",
		"GATEWAY_REQUIRE_TOKEN":   "maybe",
		"PING_INTERVAL":           "10ms",
		"MAX_HTTP_BUFFER_SIZE":    "12",
		"LOG_FORMAT":              "xml",
		"GATEWAY_TOKENLESS_ROLES": "customer,root",
		"GATEWAY_ENGINE":          "gorilla",
		"GATEWAY_RECOVERY_WINDOW": "500ms",
		"GATEWAY_DRAIN_WINDOW":    "soon",
		"GATEWAY_INTERNAL_URL":    "10.0.0.5:5002",
	}))
	if err == nil {
		t.Fatal("got no error")
	}
	for _, name := range []string{"REDIS_URL", "PORT", "ORDERAPI_URL", "GATEWAY_REQUIRE_TOKEN", "PING_INTERVAL", "MAX_HTTP_BUFFER_SIZE", "LOG_FORMAT", "GATEWAY_TOKENLESS_ROLES", "GATEWAY_ENGINE",
		"GATEWAY_RECOVERY_WINDOW", "GATEWAY_DRAIN_WINDOW", "GATEWAY_INTERNAL_URL"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not mention %s:\n%v", name, err)
		}
	}
}
