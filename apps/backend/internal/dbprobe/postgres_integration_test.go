package dbprobe

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestPostgresIntegration runs only when TEST_DATABASE_URL is set. It works in a throwaway
// schema, so it never touches the real public.migrations or app.release_starts.
func TestPostgresIntegration(t *testing.T) {
	url := os.Getenv("TEST_DATABASE_URL")
	if url == "" {
		t.Skip("TEST_DATABASE_URL not set")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	pg, err := OpenPostgres(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	schema := fmt.Sprintf("backend_it_%d", time.Now().UnixNano())
	exec := func(sql string) {
		t.Helper()
		if _, err := pg.pool.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	q := pgx.Identifier{schema}.Sanitize()
	exec("CREATE SCHEMA " + q)
	defer exec("DROP SCHEMA " + q + " CASCADE")
	pg.migrations = pgx.Identifier{schema, "migrations"}
	pg.releaseStarts = pgx.Identifier{schema, "release_starts"}

	p := New(Options{Store: pg, ReleaseID: "it-release", Host: "it-host", Redact: pg.Secrets()})

	// Before any migration: reachable, zeros, nothing recorded.
	if s := p.Probe(ctx); !s.Reachable || s.SchemaVersion != 0 || s.ReleasesSeen != 0 {
		t.Fatalf("no tables: %+v", s)
	}

	// Migration 1 only (no last_host): the fallback insert is used.
	exec("CREATE TABLE " + q + ".migrations (id integer PRIMARY KEY, name text)")
	exec("INSERT INTO " + q + ".migrations VALUES (1, 'init')")
	exec(`CREATE TABLE ` + q + `.release_starts (
		release_id text PRIMARY KEY,
		first_started_at timestamptz NOT NULL DEFAULT now(),
		last_started_at timestamptz NOT NULL DEFAULT now(),
		start_count bigint NOT NULL DEFAULT 1)`)
	if s := p.Probe(ctx); !s.Reachable || s.SchemaVersion != 1 || s.ReleasesSeen != 1 {
		t.Fatalf("after migration 1: %+v", s)
	}

	// Migration 2 adds last_host; a new process for the same release bumps start_count.
	exec("ALTER TABLE " + q + ".release_starts ADD COLUMN last_host text NOT NULL DEFAULT ''")
	exec("INSERT INTO " + q + ".migrations VALUES (2, 'release-starts-host')")
	p2 := New(Options{Store: pg, ReleaseID: "it-release", Host: "it-host-2"})
	if s := p2.Probe(ctx); !s.Reachable || s.SchemaVersion != 2 || s.ReleasesSeen != 1 {
		t.Fatalf("after migration 2: %+v", s)
	}
	var count int
	var host string
	err = pg.pool.QueryRow(ctx, "SELECT start_count, last_host FROM "+q+".release_starts WHERE release_id = 'it-release'").Scan(&count, &host)
	if err != nil {
		t.Fatal(err)
	}
	if count != 2 || host != "it-host-2" {
		t.Fatalf("start_count=%d last_host=%q, want 2 and it-host-2", count, host)
	}
}
