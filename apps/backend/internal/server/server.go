// Package server wires the gRPC server: health, StatusService, auth and graceful shutdown.
package server

import (
	"context"
	"log/slog"
	"net"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health/grpc_health_v1"

	statusv1 "github.com/deployops/backend/gen/deployops/status/v1"
)

// Options configures a Server.
type Options struct {
	// AuthToken, when non-empty, is required as a Bearer token on every non-health call.
	AuthToken string
	Health    *Health
	Status    statusv1.StatusServiceServer
	Log       *slog.Logger
	// GracePeriod bounds GracefulStop before in-flight calls are cut (default 10s).
	GracePeriod time.Duration
}

// Server is the backend's gRPC server.
type Server struct {
	grpc   *grpc.Server
	health *Health
	log    *slog.Logger
	grace  time.Duration
}

func New(opts Options) *Server {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Health == nil {
		opts.Health = NewHealth()
	}
	if opts.GracePeriod <= 0 {
		opts.GracePeriod = 10 * time.Second
	}
	var sopts []grpc.ServerOption
	if opts.AuthToken != "" {
		a := newBearerAuth(opts.AuthToken)
		sopts = append(sopts, grpc.ChainUnaryInterceptor(a.unary), grpc.ChainStreamInterceptor(a.stream))
	}
	s := &Server{
		grpc:   grpc.NewServer(sopts...),
		health: opts.Health,
		log:    opts.Log,
		grace:  opts.GracePeriod,
	}
	grpc_health_v1.RegisterHealthServer(s.grpc, s.health.srv)
	statusv1.RegisterStatusServiceServer(s.grpc, opts.Status)
	return s
}

// Serve serves lis until ctx is done, then reports NOT_SERVING, waits up to the grace period
// for in-flight calls and cuts the rest. It returns nil after a clean shutdown.
func (s *Server) Serve(ctx context.Context, lis net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- s.grpc.Serve(lis) }()

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}

	s.log.Info("shutting down", "grace_period", s.grace)
	s.health.Shutdown()
	stopped := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(s.grace):
		s.log.Warn("grace period over; closing remaining connections")
		s.grpc.Stop()
		<-stopped
	}
	return <-errc
}
