package dbprobe

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Options configures a Prober.
type Options struct {
	// Store is nil when there is no usable database; Unusable then says why.
	Store    Store
	Unusable string
	Health   Health
	Log      *slog.Logger
	// ReleaseID and Host go into app.release_starts.
	ReleaseID string
	Host      string
	// Timeout bounds each database step of a probe (default 1s).
	Timeout time.Duration
	// Redact lists strings that must never appear in an error message (e.g. the password).
	Redact []string
}

// Prober runs the probe loop and holds the latest Snapshot.
type Prober struct {
	opts Options

	probeMu  sync.Mutex // one probe at a time
	recorded bool       // this release's start row was written

	mu   sync.RWMutex
	snap Snapshot
}

func New(opts Options) *Prober {
	if opts.Timeout <= 0 {
		opts.Timeout = time.Second
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	return &Prober{opts: opts}
}

// Snapshot returns the outcome of the latest probe (zero value before the first).
func (p *Prober) Snapshot() Snapshot {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.snap
}

// Run probes at once, then every interval, until ctx is done.
func (p *Prober) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		p.Probe(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Probe checks the database once, updates the snapshot and health, and returns the snapshot.
func (p *Prober) Probe(ctx context.Context) Snapshot {
	p.probeMu.Lock()
	defer p.probeMu.Unlock()

	prev := p.Snapshot()
	next := prev
	next.CheckedAt = time.Now()
	err := p.check(ctx, &next)
	if ctx.Err() != nil {
		return prev // shutting down: a cancelled probe says nothing about the database
	}
	if err != "" {
		next.Reachable, next.Error = false, err
	} else {
		next.Reachable, next.Error = true, ""
	}

	p.mu.Lock()
	p.snap = next
	p.mu.Unlock()
	if p.opts.Health != nil {
		p.opts.Health.SetServing(next.Reachable)
	}
	p.logChange(prev, next)
	return next
}

// check fills s with fresh values and returns a short error, or "" when all steps succeeded.
func (p *Prober) check(ctx context.Context, s *Snapshot) string {
	st := p.opts.Store
	if st == nil {
		if p.opts.Unusable == "" {
			return "no database configured"
		}
		return p.opts.Unusable
	}
	if err := p.step(ctx, st.Ping); err != nil {
		return p.describe(err)
	}
	// Fill s only once every step succeeded, so a failed query keeps the last known values.
	var version, seen int64
	if err := p.step(ctx, func(ctx context.Context) (err error) {
		version, err = st.SchemaVersion(ctx)
		return err
	}); err != nil {
		return p.describe(err)
	}
	if !p.recorded {
		p.recordStart(ctx)
	}
	if err := p.step(ctx, func(ctx context.Context) (err error) {
		seen, err = st.ReleasesSeen(ctx)
		return err
	}); err != nil {
		return p.describe(err)
	}
	s.SchemaVersion, s.ReleasesSeen = version, seen
	return ""
}

// recordStart failures do not make the database unhealthy; the next probe tries again.
func (p *Prober) recordStart(ctx context.Context) {
	var ok bool
	err := p.step(ctx, func(ctx context.Context) (err error) {
		ok, err = p.opts.Store.RecordStart(ctx, p.opts.ReleaseID, p.opts.Host)
		return err
	})
	switch {
	case err != nil:
		p.opts.Log.Warn("recording release start failed; will retry", "release", p.opts.ReleaseID, "error", p.describe(err))
	case ok:
		p.recorded = true
		p.opts.Log.Info("release start recorded", "release", p.opts.ReleaseID, "host", p.opts.Host)
	}
}

func (p *Prober) step(ctx context.Context, f func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	return f(ctx)
}

func (p *Prober) describe(err error) string {
	return Describe(err, p.opts.Redact...)
}

// logChange logs transitions only, so a steady state does not flood the log.
func (p *Prober) logChange(prev, next Snapshot) {
	first := prev.CheckedAt.IsZero()
	switch {
	case next.Reachable && (first || !prev.Reachable):
		p.opts.Log.Info("database reachable", "schema_version", next.SchemaVersion, "releases_seen", next.ReleasesSeen)
	case !next.Reachable && (first || prev.Reachable || prev.Error != next.Error):
		p.opts.Log.Warn("database unreachable", "error", next.Error)
	case next.Reachable && prev.SchemaVersion != next.SchemaVersion:
		p.opts.Log.Info("schema version changed", "from", prev.SchemaVersion, "to", next.SchemaVersion)
	}
}
