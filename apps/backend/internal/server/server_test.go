package server

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	statusv1 "github.com/deployops/backend/gen/deployops/status/v1"
	"github.com/deployops/backend/internal/dbprobe"
	statussvc "github.com/deployops/backend/internal/status"
)

const serviceName = "deployops.status.v1.StatusService"

// fakeStore is a database that is either up (with fixed numbers) or down.
type fakeStore struct {
	mu   sync.Mutex
	down bool
}

func (f *fakeStore) setDown(d bool) { f.mu.Lock(); f.down = d; f.mu.Unlock() }

func (f *fakeStore) err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return context.DeadlineExceeded
	}
	return nil
}

func (f *fakeStore) Ping(context.Context) error                   { return f.err() }
func (f *fakeStore) SchemaVersion(context.Context) (int64, error) { return 2, f.err() }
func (f *fakeStore) ReleasesSeen(context.Context) (int64, error)  { return 3, f.err() }
func (f *fakeStore) RecordStart(context.Context, string, string) (bool, error) {
	return true, f.err()
}

type harness struct {
	srv    *Server
	health *Health
	prober *dbprobe.Prober
	store  *fakeStore
	conn   *grpc.ClientConn
	cancel context.CancelFunc
	done   chan error
}

var startedAt = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// start runs a real server on a loopback port, wired to a prober over a fake store.
func start(t *testing.T, token string, grace time.Duration) *harness {
	t.Helper()
	h := &harness{store: &fakeStore{}, done: make(chan error, 1)}
	h.health = NewHealth()
	h.prober = dbprobe.New(dbprobe.Options{Store: h.store, Health: h.health, ReleaseID: "rel-7"})
	h.srv = New(Options{
		AuthToken:   token,
		Health:      h.health,
		Status:      statussvc.New("rel-7", startedAt, h.prober),
		GracePeriod: grace,
	})

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- h.srv.Serve(ctx, lis) }()

	h.conn, err = grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		h.conn.Close()
		cancel()
		<-h.done
	})
	return h
}

func (h *harness) check(t *testing.T, service string) grpc_health_v1.HealthCheckResponse_ServingStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	resp, err := grpc_health_v1.NewHealthClient(h.conn).Check(ctx, &grpc_health_v1.HealthCheckRequest{Service: service})
	if err != nil {
		t.Fatalf("health check %q: %v", service, err)
	}
	return resp.Status
}

func (h *harness) expectHealth(t *testing.T, want grpc_health_v1.HealthCheckResponse_ServingStatus) {
	t.Helper()
	for _, svc := range []string{"", serviceName} {
		if got := h.check(t, svc); got != want {
			t.Fatalf("health %q = %v, want %v", svc, got, want)
		}
	}
}

func TestHealthFollowsProbe(t *testing.T) {
	h := start(t, "", time.Second)
	ctx := context.Background()

	h.expectHealth(t, grpc_health_v1.HealthCheckResponse_NOT_SERVING) // before any probe
	h.prober.Probe(ctx)
	h.expectHealth(t, grpc_health_v1.HealthCheckResponse_SERVING)
	h.store.setDown(true)
	h.prober.Probe(ctx)
	h.expectHealth(t, grpc_health_v1.HealthCheckResponse_NOT_SERVING)
	h.store.setDown(false)
	h.prober.Probe(ctx)
	h.expectHealth(t, grpc_health_v1.HealthCheckResponse_SERVING)
}

func TestHealthWithoutDatabase(t *testing.T) {
	h := NewHealth()
	p := dbprobe.New(dbprobe.Options{Health: h, Unusable: "DATABASE_URL is not set"})
	p.Probe(context.Background())
	for _, svc := range healthServices {
		resp, err := h.srv.Check(context.Background(), &grpc_health_v1.HealthCheckRequest{Service: svc})
		if err != nil || resp.Status != grpc_health_v1.HealthCheckResponse_NOT_SERVING {
			t.Fatalf("%q: %v %v", svc, resp, err)
		}
	}
}

func TestGetStatus(t *testing.T) {
	h := start(t, "tok", time.Second)
	client := statusv1.NewStatusServiceClient(h.conn)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()

	if _, err := client.GetStatus(ctx, &statusv1.GetStatusRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("without token: %v", err)
	}
	authed := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer tok")

	// Before the first probe: not reachable, with a reason.
	resp, err := client.GetStatus(authed, &statusv1.GetStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if resp.DatabaseReachable || resp.DatabaseError == "" || resp.ReleaseId != "rel-7" {
		t.Fatalf("before probe: %v", resp)
	}

	h.prober.Probe(ctx)
	resp, err = client.GetStatus(authed, &statusv1.GetStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	want := &statusv1.GetStatusResponse{
		ReleaseId: "rel-7", SchemaVersion: 2, DatabaseReachable: true,
		StartedAt: "2026-01-02T03:04:05Z", ReleasesSeen: 3,
	}
	if resp.String() != want.String() {
		t.Fatalf("GetStatus = %v\nwant        %v", resp, want)
	}

	h.store.setDown(true)
	h.prober.Probe(ctx)
	resp, err = client.GetStatus(authed, &statusv1.GetStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if resp.DatabaseReachable || resp.DatabaseError != "timed out" || resp.SchemaVersion != 2 {
		t.Fatalf("db down: %v", resp)
	}

	// Health needs no token even when one is configured.
	h.expectHealth(t, grpc_health_v1.HealthCheckResponse_NOT_SERVING)
}

func TestGracefulShutdownIsPrompt(t *testing.T) {
	h := start(t, "", 5*time.Second)
	h.prober.Probe(context.Background())
	h.expectHealth(t, grpc_health_v1.HealthCheckResponse_SERVING)

	began := time.Now()
	h.cancel()
	select {
	case err := <-h.done:
		if err != nil {
			t.Fatalf("Serve returned %v", err)
		}
		h.done <- nil // for Cleanup
	case <-time.After(3 * time.Second):
		t.Fatal("Serve did not return")
	}
	if d := time.Since(began); d > 2*time.Second {
		t.Fatalf("shutdown with nothing in flight took %v", d)
	}
	// A probe after shutdown must not flip health back.
	h.health.SetServing(true)
	resp, _ := h.health.srv.Check(context.Background(), &grpc_health_v1.HealthCheckRequest{})
	if resp.GetStatus() != grpc_health_v1.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("health after shutdown = %v", resp.GetStatus())
	}
}

func TestShutdownCutsStreamsAfterGrace(t *testing.T) {
	const grace = 200 * time.Millisecond
	h := start(t, "", grace)
	h.prober.Probe(context.Background())

	// A health Watch never ends on its own, so it holds GracefulStop until the grace period.
	watch, err := grpc_health_v1.NewHealthClient(h.conn).Watch(context.Background(), &grpc_health_v1.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if first, err := watch.Recv(); err != nil || first.Status != grpc_health_v1.HealthCheckResponse_SERVING {
		t.Fatalf("first watch update: %v %v", first, err)
	}

	began := time.Now()
	h.cancel()
	if next, err := watch.Recv(); err != nil || next.Status != grpc_health_v1.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("watchers should see NOT_SERVING first: %v %v", next, err)
	}
	select {
	case err := <-h.done:
		if err != nil {
			t.Fatalf("Serve returned %v", err)
		}
		h.done <- nil
	case <-time.After(3 * time.Second):
		t.Fatal("Serve did not return after the grace period")
	}
	if d := time.Since(began); d < grace {
		t.Fatalf("stream cut after %v, before the grace period", d)
	}
	if _, err := watch.Recv(); err == nil {
		t.Fatal("stream should be closed")
	}
}
