package server

import (
	"context"
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
