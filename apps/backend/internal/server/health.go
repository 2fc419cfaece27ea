package server

import (
	"google.golang.org/grpc/health"
	"google.golang.org/grpc/health/grpc_health_v1"

	statusv1 "github.com/deployops/backend/gen/deployops/status/v1"
)

// healthServices are reported together: "" is what generic checkers ask for.
var healthServices = []string{"", statusv1.StatusService_ServiceDesc.ServiceName}

// Health is the standard grpc.health.v1 service driven by the database probe.
type Health struct {
	srv *health.Server
}

// NewHealth starts NOT_SERVING (health.NewServer alone would report "" as SERVING): nothing
// is serving until a probe says the database answers.
func NewHealth() *Health {
	h := &Health{srv: health.NewServer()}
	h.SetServing(false)
	return h
}

// SetServing implements dbprobe.Health. It is ignored once Shutdown was called.
func (h *Health) SetServing(ok bool) {
	st := grpc_health_v1.HealthCheckResponse_NOT_SERVING
	if ok {
		st = grpc_health_v1.HealthCheckResponse_SERVING
	}
	for _, name := range healthServices {
		h.srv.SetServingStatus(name, st)
	}
}

// Shutdown pins every status to NOT_SERVING so a late probe cannot flip it back.
func (h *Health) Shutdown() { h.srv.Shutdown() }
