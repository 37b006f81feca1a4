package locallab

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"healthchecklab/internal/lab"
)

// The control API is JSON over HTTP on loopback, guarded by a bearer token that only the
// state file (mode 0600) holds, so other local users cannot drive someone's lab. It serves
// only what has no AWS API: the local rolling deploy, a zone's power interruption (on AWS
// only FIS runs it), the load balancer's counters and shutdown. Everything else goes through the lab's AWS endpoint.
const (
	pathCounters = "/v1/counters"
	pathDeploy   = "/v1/deploy"
	pathShutdown = "/v1/shutdown"
)

// Request is the body of the mutating control calls.
type Request struct {
	ServerCode string `json:"server_code,omitempty"`
	// HealthCheckType is the Auto Scaling group's health-check type a deploy sets (EC2 or
	// ELB, as the stack context AsgHealthCheck); empty keeps the group's.
	HealthCheckType string `json:"health_check_type,omitempty"`
}

// Event is one line of a streamed operation (repair, deploy): progress, then Done or Error.
type Event struct {
	Time    time.Time `json:"time"`
	Message string    `json:"message,omitempty"`
	Error   string    `json:"error,omitempty"`
	Done    bool      `json:"done,omitempty"`
}

// NewToken returns a random control-API token.
func NewToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Handler serves the control API. shutdown is called by POST /v1/shutdown (`labctl local down`).
func (l *Lab) Handler(token string, shutdown func()) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+pathCounters, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, l.Counters())
	})
	mux.HandleFunc("POST "+pathDeploy, func(w http.ResponseWriter, r *http.Request) {
		var req Request
		if !readJSON(w, r, &req) {
			return
		}
		code, err := lab.ParseServerCode(req.ServerCode)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, Event{Error: err.Error()})
			return
		}
		var typ lab.AsgHealthCheck
		if req.HealthCheckType != "" {
			if typ, err = lab.ParseAsgHealthCheck(req.HealthCheckType); err != nil {
				writeJSON(w, http.StatusBadRequest, Event{Error: err.Error()})
				return
			}
		}
		l.stream(w, r, func(ctx context.Context, say func(string)) error { return l.DeployWith(ctx, code, typ, say) })
	})
	mux.HandleFunc("POST "+pathZonePower, l.serveZonePower)
	mux.HandleFunc("POST "+pathShutdown, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusAccepted, Event{Time: time.Now(), Message: "stopping the local lab", Done: true})
		go shutdown()
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, []byte("Bearer "+token)) != 1 {
			writeJSON(w, http.StatusUnauthorized, Event{Error: "bad or missing control token"})
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// stream runs op in the lab's lifetime (a client that stops watching does not abort a
// rolling update half-way, just as closing a terminal does not stop CloudFormation) and
// streams its progress as JSON lines.
func (l *Lab) stream(w http.ResponseWriter, r *http.Request, op func(context.Context, func(string)) error) {
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	var mu sync.Mutex
	gone := false
	send := func(ev Event) {
		mu.Lock()
		defer mu.Unlock()
		if gone {
			return
		}
		ev.Time = time.Now()
		if err := json.NewEncoder(w).Encode(ev); err != nil {
			gone = true
			return
		}
		if flusher != nil {
			flusher.Flush()
		}
	}
	done := make(chan error, 1)
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		done <- op(l.ctx, func(msg string) { send(Event{Message: msg}) })
	}()
	select {
	case err := <-done:
		if err != nil {
			send(Event{Error: err.Error()})
		} else {
			send(Event{Done: true})
		}
	case <-r.Context().Done():
	}
	mu.Lock()
	gone = true
	mu.Unlock()
}

func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeJSON(w, http.StatusBadRequest, Event{Error: "bad request: " + err.Error()})
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// ErrNoLab means no local lab answers at the address the state file gives (or there is none).
var ErrNoLab = errors.New("no lab running (start one with `labctl local up`)")
