package labsim

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"healthchecklab/internal/lab"
	"healthchecklab/internal/labclient"
	"healthchecklab/internal/labnames"
	"healthchecklab/internal/targethealth"
)

// The local lab's control API paths, which labclient.Client calls: the tests reach them only
// through that client, so a change on its side fails them.
const (
	pathCounters  = "/v1/counters"
	pathDeploy    = "/v1/deploy"
	pathShutdown  = "/v1/shutdown"
	pathZonePower = "/v1/zone-power"
)

// deployLimit bounds a rolling update on the fake clock: three zones take a few minutes.
const deployLimit = time.Hour

// controlHandler serves the control API from the model: the counters, the rolling deploy
// (streamed while it moves the fake clock on) and shutdown, behind the state file's token.
func (h *Lab) controlHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+pathCounters, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, h.Counters())
	})
	mux.HandleFunc("POST "+pathDeploy, h.serveDeploy)
	mux.HandleFunc("POST "+pathZonePower, h.serveZonePower)
	mux.HandleFunc("POST "+pathShutdown, func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.shutdowns++
		h.mu.Unlock()
		writeJSON(w, http.StatusAccepted, labclient.Event{Time: h.Now(), Message: "stopping the local lab", Done: true})
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte("Bearer "+h.token)) != 1 {
			writeJSON(w, http.StatusUnauthorized, labclient.Event{Error: "bad or missing control token"})
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// Counters is what the control API answers: the load balancer's counters, each target's
// requests, recent checks and next check, and the deploy in flight.
func (h *Lab) Counters() labclient.Counters {
	h.mu.Lock()
	defer h.mu.Unlock()
	k := labclient.Counters{LB: h.lb, Targets: map[string]labclient.TargetCounts{}}
	for _, t := range h.R.Targets() {
		c := labclient.TargetCounts{Requests: h.requests[t.ID], Checks: t.Recent}
		if t.State != targethealth.StateDraining {
			next := h.nextCheck
			c.NextCheck = &next
		}
		k.Targets[t.ID] = c
	}
	if op := h.R.Operation(); op != nil {
		k.Busy = "deploy or repair in progress"
		k.Operation = &labclient.Operation{Kind: op.Kind, ServerCode: op.ServerCode, Letter: op.Zone, Started: op.Started, Last: op.Last}
	}
	return k
}

// serveDeploy runs the model's rolling update (rollOut) and streams its notes as the
// control API does.
func (h *Lab) serveDeploy(w http.ResponseWriter, r *http.Request) {
	var req labclient.Request
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, labclient.Event{Error: "bad request: " + err.Error()})
		return
	}
	code, typ, err := req.Deploy()
	if err != nil {
		writeJSON(w, http.StatusBadRequest, labclient.Event{Error: err.Error()})
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	send := func(ev labclient.Event) {
		ev.Time = h.Now()
		_ = enc.Encode(ev)
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
	}
	if err := h.rollOut(r.Context(), code, typ, func(msg string) { send(labclient.Event{Message: msg}) }); err != nil {
		send(labclient.Event{Error: err.Error()})
		return
	}
	send(labclient.Event{Done: true})
}

// rollOut starts the model's stack update to code, with the group's health-check type typ
// (empty keeps it; the grace period is the lab's) and passes its notes to say, moving the
// clock on a second at a time until the update has ended. A stack the update leaves in
// another state than UPDATE_COMPLETE is an error.
func (h *Lab) rollOut(ctx context.Context, code lab.ServerCode, typ lab.AsgHealthCheck, say func(string)) error {
	h.mu.Lock()
	h.shell.Run()
	h.notesSent = len(h.shell.Notes)
	h.mu.Unlock()
	if typ != "" {
		if err := h.R.SetHealthCheck(string(typ), lab.HealthCheckGracePeriod); err != nil {
			return err
		}
	}
	if err := h.R.Deploy(code); err != nil {
		return err
	}
	limit := h.Now().Add(deployLimit)
	for {
		h.mu.Lock()
		h.shell.Run()
		notes := h.shell.Notes[h.notesSent:]
		h.notesSent = len(h.shell.Notes)
		h.mu.Unlock()
		for _, n := range notes {
			say(n)
		}
		if h.R.Operation() == nil {
			break
		}
		if h.Now().After(limit) {
			return fmt.Errorf("the rolling update to %s did not end within %s", code, deployLimit)
		}
		if err := h.Sleep(ctx, time.Second); err != nil {
			return err // the caller stopped watching; the update goes on at the next wait
		}
	}
	for _, st := range h.R.Stacks() {
		if st.Name == h.Names.ServiceStack() && st.Status != "UPDATE_COMPLETE" {
			return fmt.Errorf("stack %s: %s", st.Name, st.Status)
		}
	}
	return nil
}

// CDK is a runner of labctl's deploys (labops.Runner) that stands in for the CDK CLI's
// `npx cdk deploy <stack> -c ServerCode=<code> [-c AsgHealthCheck=<type>] [-c LabId=<id>] …`
// (without a key the context's default applies, as the CDK app reads it: health-check type
// EC2, no LabId): it
// runs the model's stack update (rollOut) and prints each note as cdk prints stack events,
// "<stack> | <note>". Any other command line fails to start.
//
// As the CDK app does, it names its stacks from the LabId it is given (package labnames):
// a copy's stack is found only with that copy's LabId, and only this lab's stack is modelled.
func (h *Lab) CDK(ctx context.Context, _ string, argv []string, out io.Writer) (func() error, error) {
	if len(argv) < 4 || argv[0] != "npx" || argv[1] != "cdk" || argv[2] != "deploy" {
		return nil, fmt.Errorf("%q: only `npx cdk deploy` is modelled", argv)
	}
	stack, code, typ := argv[3], "", string(lab.AsgHealthChecks[0]) // the context's default
	app := labnames.Names{Prefix: lab.DefaultNamingPrefix}
	for i := 4; i+1 < len(argv); i++ {
		if argv[i] != "-c" {
			continue
		}
		if v, ok := strings.CutPrefix(argv[i+1], "ServerCode="); ok {
			code = v
		}
		if v, ok := strings.CutPrefix(argv[i+1], "AsgHealthCheck="); ok {
			typ = v
		}
		if v, ok := strings.CutPrefix(argv[i+1], "LabId="); ok {
			app.LabID = v
		}
	}
	return func() error {
		if stack != app.ServiceStack() && stack != app.VPCStack() {
			fmt.Fprintf(out, "No stack found matching '%s'\n", stack)
			return fmt.Errorf("no stack %s", stack)
		}
		if stack != h.Names.ServiceStack() {
			return fmt.Errorf("%s: only the lab's stack %s is modelled", stack, h.Names.ServiceStack())
		}
		sc, err := lab.ParseServerCode(code)
		if err != nil {
			return err
		}
		hc, err := lab.ParseAsgHealthCheck(typ)
		if err != nil {
			return err
		}
		return h.rollOut(ctx, sc, hc, func(msg string) { fmt.Fprintf(out, "%s | %s\n", stack, msg) })
	}, nil
}

// serveZonePower cuts a zone's power in the model (region.PowerOff) and gives it back once
// the window has passed on the fake clock (Sleep), as the local lab does on the wall clock.
func (h *Lab) serveZonePower(w http.ResponseWriter, r *http.Request) {
	var req labclient.ZonePowerRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, labclient.Event{Error: "bad request: " + err.Error()})
		return
	}
	d := time.Duration(req.DurationSeconds * float64(time.Second))
	letter, err := labclient.ValidZonePower(req.Zone, d)
	if err == nil {
		h.mu.Lock()
		if _, off := h.powerOn[letter]; off {
			err = fmt.Errorf("zone %s is already without power", letter)
		} else if err = h.R.PowerOff(letter); err == nil {
			h.powerOn[letter] = h.Now().Add(d)
			h.shell.Run()
		}
		h.mu.Unlock()
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, labclient.Event{Error: err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, labclient.Event{Time: h.Now(), Done: true, Message: labclient.ZonePowerMessage(req.Zone, d, h.Now().Add(d))})
}
