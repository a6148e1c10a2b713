package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
)

// lifecycleCollector exports modelkeys_credentials{lifecycle_status=...}, computed at scrape time.
type lifecycleCollector struct {
	svc  *service.Service
	desc *prometheus.Desc
}

func newLifecycleCollector(svc *service.Service) *lifecycleCollector {
	return &lifecycleCollector{svc: svc, desc: prometheus.NewDesc("modelkeys_credentials",
		"Credentials of every organisation by lifecycle status (ok, rotation_due, expiring, expired).", []string{"lifecycle_status"}, nil)}
}

func (c *lifecycleCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// lifecycleScrapeTimeout bounds the database reads of one scrape.
const lifecycleScrapeTimeout = 10 * time.Second

func (c *lifecycleCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), lifecycleScrapeTimeout)
	defer cancel()
	counts, err := c.svc.LifecycleCounts(ctx)
	if err != nil {
		c.svc.Logger().Warn("cannot count credentials by lifecycle status for /metrics", "error", err)
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for _, st := range api.LifecycleStatuses {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(counts[st]), st)
	}
}

// SetMetricsToken makes GET /metrics on Handler answer requests that send token as a bearer token
// (--metrics-token). Without it, /metrics there is a 404 and only MetricsHandler serves the metrics.
// The metrics count every organisation's credentials and requests, so no API token, of any role or
// organisation, opens them. Call it before serving.
func (s *Server) SetMetricsToken(token string) {
	if token == "" {
		s.metricsToken = nil
		return
	}
	sum := sha256.Sum256([]byte(token))
	s.metricsToken = sum[:]
}

// MinMetricsTokenLength is the shortest --metrics-token accepted: it guards every organisation's counts.
const MinMetricsTokenLength = 24

// MetricsHandler serves GET /metrics without authentication, for a listener of its own
// (--metrics-listen) that only Prometheus can reach.
func (s *Server) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metricsHandler)
	return mux
}

// checkMetricsToken lets a request for /metrics on the API's listener through when it sends the metrics
// token; a wrong or missing one is a 401 that counts against the address's failed-authentication limit.
func (s *Server) checkMetricsToken(w http.ResponseWriter, r *http.Request) error {
	if s.metricsToken == nil {
		return &service.Error{Status: http.StatusNotFound, Title: "Not found",
			Detail: "This server does not serve /metrics on its API address: scrape its --metrics-listen address, or start it with --metrics-token (env MODELKEYS_METRICS_TOKEN) and send that token as Authorization: Bearer."}
	}
	token := bearerToken(r.Header.Get("Authorization"))
	_, err := s.gated(w, r, token, func(context.Context) (service.Principal, error) {
		sum := sha256.Sum256([]byte(token))
		if token == "" || subtle.ConstantTimeCompare(sum[:], s.metricsToken) != 1 {
			return service.Principal{}, &service.Error{Status: http.StatusUnauthorized, Title: "Unauthorized",
				Detail: "/metrics takes the server's metrics token (--metrics-token, env MODELKEYS_METRICS_TOKEN) as Authorization: Bearer, not an API token."}
		}
		return service.Principal{}, nil
	})
	return err
}
