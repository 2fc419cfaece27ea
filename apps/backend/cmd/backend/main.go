// Command backend is the deployops gRPC server: grpc.health.v1 plus deployops.status.v1.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/deployops/backend/internal/config"
	"github.com/deployops/backend/internal/dbprobe"
	"github.com/deployops/backend/internal/server"
	"github.com/deployops/backend/internal/status"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	os.Exit(run(ctx, os.Getenv, os.Stderr))
}

// run returns the exit code: 0 after a clean shutdown, 1 on a runtime failure, 2 on bad config.
func run(ctx context.Context, getenv func(string) string, stderr io.Writer) int {
	startedAt := time.Now()
	cfg, err := config.Load(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "backend: invalid configuration: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))

	db := openDatabase(ctx, cfg.DatabaseURL)
	log.Info("backend starting", "release", cfg.ReleaseID, "listen", cfg.Addr(), "db_host", db.host)
	if db.pg != nil {
		defer db.pg.Close()
	}

	hostname, _ := os.Hostname()
	health := server.NewHealth()
	prober := dbprobe.New(dbprobe.Options{
		Store:     db.store,
		Unusable:  db.unusable,
		Health:    health,
		Log:       log,
		ReleaseID: cfg.ReleaseID,
		Host:      hostname,
		Redact:    db.redact,
	})
	srv := server.New(server.Options{
		AuthToken: cfg.AuthToken,
		Health:    health,
		Status:    status.New(cfg.ReleaseID, startedAt, prober),
		Log:       log,
	})

	lis, err := net.Listen("tcp", cfg.Addr())
	if err != nil {
		log.Error("cannot listen", "listen", cfg.Addr(), "error", err)
		return 1
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		prober.Run(ctx, cfg.ProbeInterval)
	}()
	err = srv.Serve(ctx, lis)
	cancel()
	wg.Wait() // the prober must be done with the pool before it is closed
	if err != nil {
		log.Error("server failed", "error", err)
		return 1
	}
	log.Info("backend stopped")
	return 0
}

type database struct {
	pg       *dbprobe.Postgres
	store    dbprobe.Store // nil unless pg is set, so the interface is truly nil
	host     string
	unusable string
	redact   []string
}

// openDatabase never fails the process: without a usable DATABASE_URL the server still starts
// and reports NOT_SERVING, so callers can see why.
func openDatabase(ctx context.Context, url string) database {
	if url == "" {
		return database{host: "(unset)", unusable: "DATABASE_URL is not set"}
	}
	pg, err := dbprobe.OpenPostgres(ctx, url)
	if err != nil {
		return database{host: "(invalid DATABASE_URL)", unusable: err.Error()}
	}
	return database{pg: pg, store: pg, host: pg.Host(), redact: append(pg.Secrets(), url)}
}
