package server

import (
	"net/http"
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
)

// rotationTriggers are the values of POST /v1/credentials/{id}/rotate's trigger parameter: who asked,
// as the audit log records it.
var rotationTriggers = []string{"api", "console", "terraform"}

func (s *Server) rotateCredential(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	trigger := r.URL.Query().Get("trigger")
	if trigger == "" {
		trigger = service.TriggerAPI
	}
	if !slices.Contains(rotationTriggers, trigger) {
		return service.InvalidField("trigger", "trigger must be one of api, console, terraform, not %q.", trigger)
	}
	c, err := s.svc.RotateCredential(r.Context(), p, r.PathValue("id"), trigger)
	if err != nil {
		return err
	}
	writeObject(w, 200, c.Version, c)
	return nil
}

// rotationCollector exports modelkeys_rotations_total{outcome}: the managed rotations of this process
// by outcome (succeeded, failed, resumed, revoked).
type rotationCollector struct {
	svc  *service.Service
	desc *prometheus.Desc
}

func newRotationCollector(svc *service.Service) *rotationCollector {
	return &rotationCollector{svc: svc, desc: prometheus.NewDesc("modelkeys_rotations_total",
		"Managed key rotations by outcome: succeeded (switched to a verified new key), failed (the old key stays), resumed (taken up after a stop), revoked (an old key revoked at the vendor).",
		[]string{"outcome"}, nil)}
}

func (c *rotationCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *rotationCollector) Collect(ch chan<- prometheus.Metric) {
	counts := c.svc.RotationCounts()
	for _, o := range service.RotationOutcomes {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(counts[o]), o)
	}
}
