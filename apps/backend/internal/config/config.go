// Package config reads the backend's settings from the environment.
package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// Config is everything the backend reads from its environment.
type Config struct {
	ReleaseID     string
	Host          string
	Port          int
	DatabaseURL   string
	AuthToken     string
	ProbeInterval time.Duration
}

const (
	defaultReleaseID     = "dev"
	defaultHost          = "::" // Fly's private network is IPv6-only
	defaultPort          = 50051
	defaultProbeInterval = 2 * time.Second
)

// Load builds a Config from getenv (os.Getenv in production). Errors name the variable and its
// value; DATABASE_URL and BACKEND_AUTH_TOKEN are never echoed.
func Load(getenv func(string) string) (Config, error) {
	c := Config{
		ReleaseID:     orDefault(getenv("RELEASE_ID"), defaultReleaseID),
		Host:          orDefault(getenv("GRPC_HOST"), defaultHost),
		Port:          defaultPort,
		DatabaseURL:   strings.TrimSpace(getenv("DATABASE_URL")),
		AuthToken:     getenv("BACKEND_AUTH_TOKEN"),
		ProbeInterval: defaultProbeInterval,
	}
	if raw := strings.TrimSpace(getenv("GRPC_PORT")); raw != "" {
		port, err := strconv.Atoi(raw)
		if err != nil || port < 1 || port > 65535 {
			return Config{}, fmt.Errorf("GRPC_PORT=%q is not a valid port (want an integer from 1 to 65535)", raw)
		}
		c.Port = port
	}
	if raw := strings.TrimSpace(getenv("DB_PROBE_INTERVAL")); raw != "" {
		d, err := time.ParseDuration(raw)
		if err != nil || d <= 0 {
			return Config{}, fmt.Errorf("DB_PROBE_INTERVAL=%q is not a positive Go duration (for example 2s or 500ms)", raw)
		}
		c.ProbeInterval = d
	}
	return c, nil
}

// Addr is the listen address, e.g. "[::]:50051".
func (c Config) Addr() string {
	return net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
}

func orDefault(v, def string) string {
	if v = strings.TrimSpace(v); v != "" {
		return v
	}
	return def
}
