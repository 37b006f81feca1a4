package locallab

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"healthchecklab/internal/labclient"
)

// The control API's paths, bodies and answers are labclient's (its contract.go); this
// file serves them. It serves only what has no AWS API: the local rolling deploy, a zone's
// power interruption (on AWS only FIS runs it), the load balancer's counters and shutdown.

// Handler serves the control API. shutdown is called by POST /v1/shutdown (`labctl local down`).
func (l *Lab) Handler(token string, shutdown func()) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+labclient.PathCounters, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, l.Counters())
	})
	mux.HandleFunc("POST "+labclient.PathDeploy, func(w http.ResponseWriter, r *http.Request) {
		var req labclient.Request
		if !readJSON(w, r, &req) {
			return
		}
		code, typ, err := req.Deploy()
		if err != nil {
			writeJSON(w, http.StatusBadRequest, labclient.Event{Error: err.Error()})
			return
		}
		l.stream(w, r, func(ctx context.Context, say func(string)) error { return l.DeployWith(ctx, code, typ, say) })
	})
	mux.HandleFunc("POST "+labclient.PathZonePower, l.serveZonePower)
	mux.HandleFunc("POST "+labclient.PathShutdown, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusAccepted, labclient.Event{Time: time.Now(), Message: "stopping the local lab", Done: true})
		go shutdown()
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, []byte("Bearer "+token)) != 1 {
			writeJSON(w, http.StatusUnauthorized, labclient.Event{Error: "bad or missing control token"})
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
	send := func(ev labclient.Event) {
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
		done <- op(l.ctx, func(msg string) { send(labclient.Event{Message: msg}) })
	}()
	select {
	case err := <-done:
		if err != nil {
			send(labclient.Event{Error: err.Error()})
		} else {
			send(labclient.Event{Done: true})
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
		writeJSON(w, http.StatusBadRequest, labclient.Event{Error: "bad request: " + err.Error()})
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
