package dbprobe

import (
	"context"
	"errors"
	"sync"
)

// fakeStore is an in-memory Store whose availability the test flips.
type fakeStore struct {
	mu          sync.Mutex
	down        error
	queryErr    error // fails the queries but not Ping
	schema      int64
	haveTable   bool
	starts      map[string]int
	recordCalls int
}

func newFakeStore() *fakeStore { return &fakeStore{starts: map[string]int{}} }

func (f *fakeStore) set(fn func(*fakeStore)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeStore) Ping(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.down
}

func (f *fakeStore) SchemaVersion(context.Context) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down != nil {
		return 0, f.down
	}
	return f.schema, f.queryErr
}

func (f *fakeStore) ReleasesSeen(context.Context) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down != nil {
		return 0, f.down
	}
	return int64(len(f.starts)), f.queryErr
}

func (f *fakeStore) RecordStart(_ context.Context, release, _ string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.recordCalls++
	if f.down != nil {
		return false, f.down
	}
	if !f.haveTable {
		return false, nil
	}
	f.starts[release]++
	return true, nil
}

type fakeHealth struct {
	mu      sync.Mutex
	history []bool
}

func (h *fakeHealth) SetServing(ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.history = append(h.history, ok)
}

func (h *fakeHealth) last() (bool, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.history) == 0 {
		return false, false
	}
	return h.history[len(h.history)-1], true
}

var errRefused = errors.New("dial tcp 10.0.0.1:5432: connect: connection refused")
