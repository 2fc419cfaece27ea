// Package dbprobe watches the database: a loop pings it, reads the schema version and the
// release count, records this release's start once, and flips gRPC health accordingly.
package dbprobe

import (
	"context"
	"time"
)

// Store is the seam around the database, so the probe logic can be tested without Postgres.
type Store interface {
	Ping(ctx context.Context) error
	// SchemaVersion is the highest applied migration id; 0 when the table does not exist yet.
	SchemaVersion(ctx context.Context) (int64, error)
	// ReleasesSeen counts distinct releases started against this database; 0 without the table.
	ReleasesSeen(ctx context.Context) (int64, error)
	// RecordStart upserts this release's start row. ok is false (with a nil error) when the
	// table does not exist yet, so the caller tries again after the next migration.
	RecordStart(ctx context.Context, releaseID, host string) (ok bool, err error)
}

// Health receives the database verdict; the gRPC server maps it to SERVING / NOT_SERVING.
type Health interface {
	SetServing(serving bool)
}

// Snapshot is the outcome of the latest probe.
type Snapshot struct {
	Reachable bool
	// Error says why the last probe failed, without connection details; empty when reachable.
	Error string
	// SchemaVersion and ReleasesSeen keep their last known values while the database is down.
	SchemaVersion int64
	ReleasesSeen  int64
	CheckedAt     time.Time
}
