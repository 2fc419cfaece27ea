package dbprobe

import (
	"context"
	"testing"
	"time"
)

func TestProbeWithoutDatabase(t *testing.T) {
	h := &fakeHealth{}
	p := New(Options{Health: h, Unusable: "DATABASE_URL is not set"})
	s := p.Probe(context.Background())
	if s.Reachable || s.Error != "DATABASE_URL is not set" {
		t.Fatalf("snapshot = %+v", s)
	}
	if serving, set := h.last(); !set || serving {
		t.Fatalf("health should be NOT_SERVING, got serving=%v set=%v", serving, set)
	}
}

func TestProbeTransitions(t *testing.T) {
	store, h := newFakeStore(), &fakeHealth{}
	p := New(Options{Store: store, Health: h, ReleaseID: "r1", Host: "m1"})
	ctx := context.Background()

	store.set(func(f *fakeStore) { f.down = errRefused })
	if s := p.Probe(ctx); s.Reachable || s.Error != errRefused.Error() {
		t.Fatalf("down: %+v", s)
	}
	if serving, _ := h.last(); serving {
		t.Fatal("down: health should be NOT_SERVING")
	}

	// Up, but migrations have not run: serving, version 0, start not yet recorded.
	store.set(func(f *fakeStore) { f.down = nil })
	if s := p.Probe(ctx); !s.Reachable || s.Error != "" || s.SchemaVersion != 0 || s.ReleasesSeen != 0 {
		t.Fatalf("up without tables: %+v", s)
	}
	if serving, _ := h.last(); !serving {
		t.Fatal("up: health should be SERVING")
	}

	// Migrations ran: the start is recorded once, however many probes follow.
	store.set(func(f *fakeStore) { f.schema, f.haveTable = 2, true })
	for i := 0; i < 3; i++ {
		p.Probe(ctx)
	}
	s := p.Snapshot()
	if s.SchemaVersion != 2 || s.ReleasesSeen != 1 || store.starts["r1"] != 1 {
		t.Fatalf("after migration: %+v starts=%v", s, store.starts)
	}

	// Down again: NOT_SERVING, last known values kept.
	store.set(func(f *fakeStore) { f.down = errRefused })
	s = p.Probe(ctx)
	if s.Reachable || s.SchemaVersion != 2 || s.ReleasesSeen != 1 {
		t.Fatalf("down again: %+v", s)
	}
	if serving, _ := h.last(); serving {
		t.Fatal("down again: health should be NOT_SERVING")
	}

	// Ping answers but a query fails: still unreachable, values still kept.
	store.set(func(f *fakeStore) { f.down = nil; f.queryErr = errRefused })
	if s = p.Probe(ctx); s.Reachable || s.SchemaVersion != 2 || s.ReleasesSeen != 1 {
		t.Fatalf("query failing: %+v", s)
	}

	store.set(func(f *fakeStore) { f.queryErr = nil })
	p.Probe(ctx)
	if store.starts["r1"] != 1 {
		t.Fatalf("start recorded more than once: %v", store.starts)
	}
}

func TestProbeTimesOut(t *testing.T) {
	p := New(Options{Store: hangingStore{newFakeStore()}, Timeout: 20 * time.Millisecond})
	start := time.Now()
	s := p.Probe(context.Background())
	if s.Reachable || s.Error != "timed out" {
		t.Fatalf("snapshot = %+v", s)
	}
	if time.Since(start) > time.Second {
		t.Fatal("probe did not honour its timeout")
	}
}

func TestCancelledProbeKeepsState(t *testing.T) {
	store, h := newFakeStore(), &fakeHealth{}
	p := New(Options{Store: store, Health: h})
	p.Probe(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if s := p.Probe(ctx); !s.Reachable {
		t.Fatalf("cancelled probe changed state: %+v", s)
	}
}

func TestRunProbesUntilCancelled(t *testing.T) {
	store, h := newFakeStore(), &fakeHealth{}
	p := New(Options{Store: store, Health: h})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx, 5*time.Millisecond); close(done) }()

	waitFor(t, func() bool { return p.Snapshot().Reachable })
	store.set(func(f *fakeStore) { f.down = errRefused })
	waitFor(t, func() bool { return !p.Snapshot().Reachable })
	cancel()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

// hangingStore blocks Ping until the context ends, like an unresponsive server.
type hangingStore struct{ *fakeStore }

func (hangingStore) Ping(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(2 * time.Millisecond)
	}
}
