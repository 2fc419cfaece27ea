package config

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDefaults(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.ReleaseID != "dev" || c.Host != "::" || c.Port != 50051 || c.ProbeInterval != 2*time.Second {
		t.Fatalf("unexpected defaults: %+v", c)
	}
	if c.DatabaseURL != "" || c.AuthToken != "" {
		t.Fatalf("secrets should default to empty: %+v", c)
	}
	if got := c.Addr(); got != "[::]:50051" {
		t.Fatalf("Addr() = %q, want [::]:50051", got)
	}
}

func TestOverrides(t *testing.T) {
	c, err := Load(env(map[string]string{
		"RELEASE_ID":         "v42",
		"GRPC_HOST":          "127.0.0.1",
		"GRPC_PORT":          "6000",
		"DATABASE_URL":       "postgres://u:p@db:5432/x",
		"BACKEND_AUTH_TOKEN": "tok",
		"DB_PROBE_INTERVAL":  "500ms",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.ReleaseID != "v42" || c.Addr() != "127.0.0.1:6000" || c.AuthToken != "tok" ||
		c.DatabaseURL != "postgres://u:p@db:5432/x" || c.ProbeInterval != 500*time.Millisecond {
		t.Fatalf("overrides not applied: %+v", c)
	}
}

func TestBadValues(t *testing.T) {
	cases := []struct{ key, value string }{
		{"GRPC_PORT", "abc"},
		{"GRPC_PORT", "0"},
		{"GRPC_PORT", "65536"},
		{"GRPC_PORT", "-1"},
		{"DB_PROBE_INTERVAL", "2"},
		{"DB_PROBE_INTERVAL", "-1s"},
	}
	for _, tc := range cases {
		_, err := Load(env(map[string]string{tc.key: tc.value}))
		if err == nil {
			t.Errorf("%s=%q: expected an error", tc.key, tc.value)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, tc.key) || !strings.Contains(msg, tc.value) {
			t.Errorf("%s=%q: error %q should name the variable and value", tc.key, tc.value, msg)
		}
	}
}
