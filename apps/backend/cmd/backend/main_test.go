package main

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health/grpc_health_v1"
)

// syncBuffer lets the test read the log while run is still writing it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestBadPortExits2(t *testing.T) {
	var out syncBuffer
	env := map[string]string{"GRPC_PORT": "http"}
	code := run(context.Background(), func(k string) string { return env[k] }, &out)
	if code != 2 {
		t.Fatalf("exit code = %d, want 2", code)
	}
	if lines := strings.Split(strings.TrimSpace(out.String()), "\n"); len(lines) != 1 || !strings.Contains(lines[0], `GRPC_PORT="http"`) {
		t.Fatalf("want one line naming GRPC_PORT and its value, got %q", out.String())
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// The whole process without a database: it starts, reports NOT_SERVING, and exits 0 on signal.
func TestRunWithoutReachableDatabase(t *testing.T) {
	port := freePort(t)
	env := map[string]string{
		"GRPC_HOST":         "127.0.0.1",
		"GRPC_PORT":         port,
		"RELEASE_ID":        "v9",
		"DATABASE_URL":      "postgres://app:pw-s3cret@127.0.0.1:1/app?connect_timeout=1",
		"DB_PROBE_INTERVAL": "50ms",
	}
	var out syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() { done <- run(ctx, func(k string) string { return env[k] }, &out) }()

	conn, err := grpc.NewClient("127.0.0.1:"+port, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		cctx, ccancel := context.WithTimeout(ctx, 500*time.Millisecond)
		resp, err := grpc_health_v1.NewHealthClient(conn).Check(cctx, &grpc_health_v1.HealthCheckRequest{})
		ccancel()
		if err == nil {
			if resp.Status != grpc_health_v1.HealthCheckResponse_NOT_SERVING {
				t.Fatalf("health = %v, want NOT_SERVING", resp.Status)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server never answered: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit code = %d, want 0\n%s", code, out.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after cancel")
	}

	log := out.String()
	first := strings.SplitN(log, "\n", 2)[0]
	for _, want := range []string{"backend starting", "release=v9", "listen=127.0.0.1:" + port, "db_host=127.0.0.1:1"} {
		if !strings.Contains(first, want) {
			t.Errorf("first log line %q lacks %q", first, want)
		}
	}
	if strings.Contains(log, "pw-s3cret") || strings.Contains(log, "app:") {
		t.Errorf("log leaks credentials:\n%s", log)
	}
}
