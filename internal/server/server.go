package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/time/rate"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/idgen"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
)

// Server is the HTTP face of the Service.
type Server struct {
	svc            *service.Service
	handler        http.Handler
	mux            *http.ServeMux
	metricsHandler http.Handler
	openAPIDoc     map[string]any

	// metricsToken is the SHA-256 of the token /metrics on this handler takes (SetMetricsToken); nil
	// when it is served only by MetricsHandler.
	metricsToken []byte

	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec

	limitersMu    sync.Mutex
	limiters      map[string]*rate.Limiter // by token id
	limitersSwept time.Time

	authGate *authGate // failed authentications per client address; nil when off
}

// New opens the service and builds its HTTP face.
func New(ctx context.Context, cfg service.Config) (*Server, error) {
	withFederation(&cfg)
	svc, err := service.New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s := &Server{svc: svc, limiters: map[string]*rate.Limiter{}}
	if !cfg.Embedded { // in-process: no tokens to guess, and every request comes from one "address"
		s.authGate = newAuthGate(cfg.Limits)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "modelkeys_http_requests_total", Help: "HTTP requests by method, route and status code.",
	}, []string{"method", "route", "code"})
	s.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "modelkeys_http_request_duration_seconds", Help: "HTTP request latency by method and route.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"method", "route"})
	reg.MustRegister(s.requests, s.duration, newLifecycleCollector(svc))
	reg.MustRegister(newRotationCollector(svc))
	s.metricsHandler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})

	mux := http.NewServeMux()
	table := routes()
	for _, rt := range table {
		mux.Handle(rt.Method+" "+rt.Path, s.endpoint(rt))
	}
	mux.HandleFunc("/", noRoute(table))
	s.mux = mux
	s.openAPIDoc = buildOpenAPI(table, cfg.Version)
	s.handler = s.observe(mux)
	return s, nil
}

// Handler is the whole API.
func (s *Server) Handler() http.Handler { return s.handler }

// Service exposes the rules for the commands and background jobs that share the process.
func (s *Server) Service() *service.Service { return s.svc }

// endpoint wraps a route: authenticate, rate-limit, check the request's text, body type and filters,
// run, and turn errors into problem documents.
func (s *Server) endpoint(rt route) http.Handler {
	enums := enumQueries(rt)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p service.Principal
		if rt.MetricsToken {
			if err := s.checkMetricsToken(w, r); err != nil {
				s.fail(w, r, err)
				return
			}
		} else if !rt.Public {
			var err error
			if p, err = s.gateAuth(w, r); err != nil {
				s.fail(w, r, err)
				return
			}
			setActor(r, p)
			if err := s.allow(w, p); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		if err := checkRequestText(r); err != nil {
			s.fail(w, r, err)
			return
		}
		if rt.Request != nil {
			if err := checkJSONContentType(r); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		if err := checkEnumQuery(enums, r); err != nil {
			s.fail(w, r, err)
			return
		}
		if err := rt.handle(s, w, r, p); err != nil {
			s.fail(w, r, err)
		}
	})
}

// fail writes err as a problem; errors that are not API errors are logged and answered with a 500
// that says nothing of their content.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if e, ok := service.AsError(err); ok {
		writeProblem(w, e)
		return
	}
	if r.Context().Err() != nil {
		writeProblem(w, &service.Error{Status: 499, Title: "Client closed request"})
		return
	}
	s.svc.Logger().ErrorContext(r.Context(), "request failed", "request_id", requestID(r), "error", err)
	writeProblem(w, &service.Error{Status: http.StatusInternalServerError, Title: "Internal error",
		Detail: "The server failed to handle this request; its log has the details under request id " + requestID(r) + "."})
}

// allow applies the per-token rate limit.
func (s *Server) allow(w http.ResponseWriter, p service.Principal) error {
	lim := s.svc.Limits()
	if lim.RequestsPerSecond <= 0 {
		return nil
	}
	s.limitersMu.Lock()
	if now := time.Now(); now.Sub(s.limitersSwept) > time.Minute {
		s.sweepLimitersLocked(now)
	}
	l, ok := s.limiters[p.TokenID]
	if !ok {
		burst := lim.Burst
		if burst <= 0 {
			burst = int(lim.RequestsPerSecond) + 1
		}
		l = rate.NewLimiter(rate.Limit(lim.RequestsPerSecond), burst)
		s.limiters[p.TokenID] = l
	}
	s.limitersMu.Unlock()
	res := l.Reserve()
	if d := res.Delay(); d > 0 {
		res.Cancel()
		w.Header().Set("Retry-After", strconv.Itoa(int(d/time.Second)+1))
		return &service.Error{Status: http.StatusTooManyRequests, Title: "Too many requests",
			Detail: fmt.Sprintf("Token %q is limited to %.0f requests per second; retry after the Retry-After delay.", p.Actor, lim.RequestsPerSecond)}
	}
	return nil
}

// sweepLimitersLocked forgets the limiters whose bucket has filled up again: such a limiter is the same
// as a new one, so nothing is lost, and the map keeps only the tokens used in the last few seconds
// rather than every token the server has seen (revoked ones included).
func (s *Server) sweepLimitersLocked(now time.Time) {
	for id, l := range s.limiters {
		if l.TokensAt(now) >= float64(l.Burst()) {
			delete(s.limiters, id)
		}
	}
	s.limitersSwept = now
}

// observe adds a request id, recovers panics, records metrics and logs one line per request.
// Nothing about bodies is logged: they may hold secrets.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 64 || catalog.ValidateText(id) != nil { // it is logged and sent back as it is
			id = idgen.New("req")
		}
		info := &requestInfo{id: id}
		r = r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info))
		w.Header().Set("X-Request-Id", id)
		secureHeaders(w, r)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			if v := recover(); v != nil {
				s.svc.Logger().Error("panic while serving a request", "request_id", id, "panic", fmt.Sprint(v))
				if !rec.wrote {
					writeProblem(rec, &service.Error{Status: http.StatusInternalServerError, Title: "Internal error", Detail: "request id " + id})
				}
			}
			route := r.Pattern
			if route == "" || route == "/" {
				route = "unmatched"
			}
			elapsed := time.Since(start)
			s.requests.WithLabelValues(r.Method, route, strconv.Itoa(rec.status)).Inc()
			s.duration.WithLabelValues(r.Method, route).Observe(elapsed.Seconds())
			level := slog.LevelInfo
			if rec.status >= 500 {
				level = slog.LevelError
			}
			s.svc.Logger().Log(r.Context(), level, "request", "request_id", id, "method", r.Method, "route", route,
				"status", rec.status, "duration_ms", float64(elapsed.Microseconds())/1000, "actor", info.actor, "org_id", info.org)
		}()
		next.ServeHTTP(rec, r)
	})
}

type requestInfoKey struct{}

type requestInfo struct{ id, actor, org string }

func requestID(r *http.Request) string {
	if info, ok := r.Context().Value(requestInfoKey{}).(*requestInfo); ok {
		return info.id
	}
	return ""
}

func setActor(r *http.Request, p service.Principal) {
	if info, ok := r.Context().Value(requestInfoKey{}).(*requestInfo); ok {
		info.actor, info.org = p.Actor, p.OrgID
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
