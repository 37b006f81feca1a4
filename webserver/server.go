package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"healthchecklab/internal/lab"
)

// recommender is what the / handler needs from the RecommendationService.
type recommender interface {
	Recommend(ctx context.Context, userID int) (Recommendation, error)
}

// deps are everything the handlers use, passed in rather than global.
type deps struct {
	logger      *slog.Logger
	code        lab.ServerCode
	metadata    Metadata
	region      string
	service     recommender
	health      *healthChecker
	maxInFlight int
}

// newServer returns the site's handler: the routes, wrapped in per-request logging.
func newServer(d deps) http.Handler {
	mux := http.NewServeMux()
	addRoutes(mux, d)
	return logRequests(d.logger, d.code, mux)
}

// addRoutes is the one place that lists the site's paths. ServeMux answers other methods on
// these paths with 405 and an Allow header, and other paths with 404; GET patterns also
// match HEAD, which net/http answers without a body.
func addRoutes(mux *http.ServeMux, d deps) {
	mux.Handle("GET /{$}", shedLoad(d.maxInFlight, handleRecommendation(d)))
	mux.Handle("GET "+lab.TargetGroupHealthCheck.Path, handleHealthCheck(d))
	mux.Handle("GET "+lab.LivenessPath, handleLivez())
}

// requestInfo is filled in by handlers and logged by logRequests.
type requestInfo struct {
	dependency string // outcome of the dependency call: ok, an error kind, or empty if none
	user       int
	dropped    bool
	// parameterStale: the parameter's value used was stale (Parameter Store failing or slow).
	parameterStale bool
}

type infoKey struct{}

func info(r *http.Request) *requestInfo {
	if ri := requestInfoFrom(r.Context()); ri != nil {
		return ri
	}
	return &requestInfo{}
}

// requestInfoFrom returns the request's log fields carried by ctx, or nil.
func requestInfoFrom(ctx context.Context) *requestInfo {
	ri, _ := ctx.Value(infoKey{}).(*requestInfo)
	return ri
}

// statusRecorder remembers the status written; Unwrap lets http.ResponseController reach
// the connection (to hijack it).
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// logRequests writes one JSON log line per request: path, status, duration, mode and the
// dependency's outcome. Headers and credentials are never logged.
func logRequests(logger *slog.Logger, code lab.ServerCode, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ri := &requestInfo{}
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), infoKey{}, ri)))
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			slog.String("mode", string(code)),
			slog.Int("bytes", rec.bytes),
			slog.String("remote", r.RemoteAddr),
		}
		if ri.dependency != "" {
			attrs = append(attrs, slog.String("dependency", ri.dependency))
		}
		if ri.user != 0 {
			attrs = append(attrs, slog.Int("user", ri.user))
		}
		if ri.dropped {
			attrs = append(attrs, slog.Bool("dropped", true))
		}
		if ri.parameterStale {
			attrs = append(attrs, slog.Bool("parameter_stale", true))
		}
		if r.Context().Err() != nil {
			// The client closed (or half-closed) its connection before the answer.
			attrs = append(attrs, slog.Bool("client_gone", true))
		}
		logger.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
	})
}

// shedLoad lets at most limit requests run next at once and answers the rest at once with 503
// and Retry-After, so a flood of / neither queues without end nor starves the health checks,
// which do not pass through here.
func shedLoad(limit int, next http.Handler) http.Handler {
	sem := make(chan struct{}, limit)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case sem <- struct{}{}:
			defer func() { <-sem }()
			next.ServeHTTP(w, r)
		default:
			info(r).dependency = "shed"
			w.Header().Set("Retry-After", "1")
			http.Error(w, "Service busy, please retry", http.StatusServiceUnavailable)
		}
	})
}

// recommendationView is the / answer, for the page and as JSON.
type recommendationView struct {
	UserID       int      `json:"user_id"`
	UserName     string   `json:"user_name"`
	Show         string   `json:"show"`
	Personalized bool     `json:"personalized"`
	Diagnostic   string   `json:"diagnostic"`
	ServerCode   string   `json:"server_code"`
	Metadata     Metadata `json:"metadata"`
}

// handleRecommendation serves /: a recommendation for ?user=N (1–4) or a random user.
func handleRecommendation(d deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ri := info(r)
		userID, err := parseUser(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ri.user = userID
		view := recommendationView{UserID: userID, ServerCode: string(d.code), Metadata: d.metadata}
		rec, err := d.service.Recommend(r.Context(), userID)
		if err != nil {
			ri.dependency = errorKind(err)
			if !d.code.DegradesGracefully() {
				// basic: fail like the lab's first server, with no response at all; a load
				// balancer turns the empty reply into 502.
				ri.dropped = true
				dropConnection(w)
				return
			}
			view.UserName, view.Show, view.Diagnostic = lab.StaticUserName, lab.StaticShow, err.Error()
		} else {
			ri.dependency = "ok"
			view.UserName, view.Show, view.Personalized = rec.UserName, rec.Show, true
		}
		render(w, r, http.StatusOK, view, pageTemplate)
	})
}

// parseUser reads ?user=N. Without it a random user is picked, as in the lab. A query string
// that does not parse (bad escapes, semicolons) is refused rather than half-read.
func parseUser(r *http.Request) (int, error) {
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return 0, errors.New("malformed query string")
	}
	vals, present := query["user"]
	if !present {
		return lab.FirstUserID + rand.IntN(lab.LastUserID-lab.FirstUserID+1), nil
	}
	n, err := strconv.Atoi(vals[0])
	if len(vals) != 1 || err != nil || n < lab.FirstUserID || n > lab.LastUserID || strconv.Itoa(n) != vals[0] {
		return 0, errBadUser
	}
	return n, nil
}

var errBadUser = errors.New("user must be a number from " + strconv.Itoa(lab.FirstUserID) + " to " + strconv.Itoa(lab.LastUserID))

// dropConnection closes the client connection without writing a response.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not hijackable (HTTP/2): aborting the handler resets the stream instead.
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// healthView is the /healthcheck answer.
type healthView struct {
	Healthy    bool     `json:"healthy"`
	Error      string   `json:"error"`
	Deep       bool     `json:"deep"`
	ServerCode string   `json:"server_code"`
	Metadata   Metadata `json:"metadata"`
}

// handleHealthCheck serves the load balancer's health check: shallow (always 200) except in
// healthcheck mode, where it reads the probe row and answers 503 when that fails.
func handleHealthCheck(d deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		view := healthView{Healthy: true, Deep: d.code.DeepHealthCheck(), ServerCode: string(d.code), Metadata: d.metadata}
		status := http.StatusOK
		if view.Deep {
			res := d.health.Check(r.Context())
			if res.Err != nil {
				view.Healthy, view.Error, status = false, res.Err.Error(), http.StatusServiceUnavailable
				info(r).dependency = errorKind(res.Err)
			} else {
				info(r).dependency = "ok"
			}
		}
		render(w, r, status, view, healthTemplate)
	})
}

// handleLivez answers as long as the process serves; it touches no dependency.
func handleLivez() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte("ok\n"))
	})
}

// wantsJSON reports whether the client asked for JSON in its Accept header.
func wantsJSON(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	if !strings.Contains(accept, "json") {
		return false // browsers, the load balancer and curl: no need to parse
	}
	for _, part := range strings.Split(accept, ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "application/json" {
			return true
		}
	}
	return false
}

// render writes view as JSON when asked for, else through the HTML template.
func render(w http.ResponseWriter, r *http.Request, status int, view any, tmpl *template.Template) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Vary", "Accept")
	if wantsJSON(r) {
		tmpl = nil
		h.Set("Content-Type", "application/json")
	} else {
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("X-Content-Type-Options", "nosniff")
	}
	body, err := pages.get(tmpl, view)
	if err != nil {
		h.Del("X-Content-Type-Options")
		http.Error(w, "template error", http.StatusInternalServerError)
		return
	}
	// A known length lets net/http send the answer in one piece instead of chunks.
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// pages are the rendered answers, reused: the site has few distinct ones (four users, a few
// diagnostics, healthy or not, per instance), and rendering html/template with its escaping
// costs more CPU than the rest of a request outside the SDK.
var pages = &pageCache{pages: map[pageKey][]byte{}}

// maxCachedPages bounds the page cache; when full it starts over.
const maxCachedPages = 256

// pageCache maps a view (a comparable struct) and its template (nil: JSON) to the bytes sent.
type pageCache struct {
	mu    sync.RWMutex
	pages map[pageKey][]byte
}

type pageKey struct {
	tmpl *template.Template
	view any
}

// get returns view rendered through tmpl, or as JSON when tmpl is nil.
func (c *pageCache) get(tmpl *template.Template, view any) ([]byte, error) {
	k := pageKey{tmpl, view}
	c.mu.RLock()
	b, ok := c.pages[k]
	c.mu.RUnlock()
	if ok {
		return b, nil
	}
	var buf bytes.Buffer
	var err error
	if tmpl == nil {
		err = json.NewEncoder(&buf).Encode(view)
	} else {
		err = tmpl.Execute(&buf, view)
	}
	if err != nil {
		return nil, err
	}
	b = buf.Bytes()
	c.mu.Lock()
	if len(c.pages) >= maxCachedPages {
		clear(c.pages)
	}
	c.pages[k] = b
	c.mu.Unlock()
	return b, nil
}
