package labops

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"healthchecklab/cmd/labctl/internal/actions"
	"healthchecklab/cmd/labctl/internal/target"
	"healthchecklab/internal/lab"
)

// fakeFIS answers the two FIS calls labctl makes, over HTTP in FIS's REST-JSON shapes, so the
// real SDK client runs against it: StartExperiment (POST /experiments) and GetExperiment
// (GET /experiments/{id}), the latter walking through states, the last one repeating.
type fakeFIS struct {
	mu     sync.Mutex
	states []map[string]any // each {"status":…, "reason":…, "action":…}
	// actions are the experiment's actions, name to action id; all share the state's
	// "action" status. Nil means the one action of dependency loss.
	actions  map[string]string
	gets     int
	started  map[string]any // the StartExperiment body
	requests []string
}

func (f *fakeFIS) experiment(state map[string]any) map[string]any {
	actions := map[string]any{}
	defs := f.actions
	if defs == nil {
		defs = map[string]string{"DependencyLoss": "aws:network:disrupt-connectivity"}
	}
	for name, id := range defs {
		actions[name] = map[string]any{"actionId": id, "state": map[string]any{"status": state["action"]}}
	}
	return map[string]any{"experiment": map[string]any{
		"id": "EXP1a2b3c", "experimentTemplateId": f.templateID(),
		"state":   map[string]any{"status": state["status"], "reason": state["reason"]},
		"actions": actions,
	}}
}

// templateID is the template StartExperiment was given (EXT9z8y7 before any).
func (f *fakeFIS) templateID() any {
	if id, ok := f.started["experimentTemplateId"]; ok {
		return id
	}
	return "EXT9z8y7"
}

func (f *fakeFIS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r.Method+" "+r.URL.Path)
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIDFIS/") ||
		!strings.Contains(r.Header.Get("Authorization"), "/fis/aws4_request") {
		http.Error(w, `{"message":"unsigned"}`, http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/experiments":
		json.NewDecoder(r.Body).Decode(&f.started)
		json.NewEncoder(w).Encode(f.experiment(map[string]any{"status": "pending", "action": "pending"}))
	case r.Method == http.MethodGet && r.URL.Path == "/experiments/EXP1a2b3c":
		i := min(f.gets, len(f.states)-1)
		f.gets++
		json.NewEncoder(w).Encode(f.experiment(f.states[i]))
	default:
		w.Header().Set("X-Amzn-Errortype", "ResourceNotFoundException")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"message":"no such experiment"}`))
	}
}

// fisLab is a Lab on the AWS target whose FIS client talks to fake.
func fisLab(t *testing.T, fake *fakeFIS, kind target.Kind, outputs map[string]string) *Lab {
	t.Helper()
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	cfg := aws.Config{
		Region:       "eu-west-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDFIS", "secret", ""),
		BaseEndpoint: aws.String(srv.URL),
	}
	return &Lab{
		T:     &target.Where{Kind: kind, Stack: "HealthCheckLab", Config: cfg},
		A:     actions.New(cfg),
		Stack: actions.Stack{Name: "HealthCheckLab", Outputs: outputs},
	}
}

func TestFaultViaFIS(t *testing.T) {
	old := FISPoll
	FISPoll = 5 * time.Millisecond
	t.Cleanup(func() { FISPoll = old })
	outputs := map[string]string{lab.OutputExperimentDependencyLoss: "EXT9z8y7"}

	t.Run("starts the fault's template and follows it to completion", func(t *testing.T) {
		fake := &fakeFIS{states: []map[string]any{
			{"status": "initiating", "action": "pending"},
			{"status": "running", "action": "running"},
			{"status": "running", "action": "running"},
			{"status": "completed", "reason": "Experiment completed.", "action": "completed"},
		}}
		l := fisLab(t, fake, target.AWS, outputs)
		var lines []string
		exp, err := l.FaultViaFIS(context.Background(), lab.FaultDependencyLoss, "tok-1", func(m string) { lines = append(lines, m) })
		if err != nil || exp.Status != "completed" {
			t.Fatalf("FaultViaFIS: %+v, %v", exp, err)
		}
		if fake.started["experimentTemplateId"] != "EXT9z8y7" || fake.started["clientToken"] != "tok-1" {
			t.Errorf("StartExperiment body %v", fake.started)
		}
		text := strings.Join(lines, "\n")
		for _, want := range []string{
			"experiment EXP1a2b3c started from template EXT9z8y7 (dependency-loss)",
			"experiment EXP1a2b3c: running; DependencyLoss aws:network:disrupt-connectivity: running",
			"experiment EXP1a2b3c: completed (Experiment completed.); DependencyLoss aws:network:disrupt-connectivity: completed",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("progress lacks %q:\n%s", want, text)
			}
		}
		if n := strings.Count(text, ": running;"); n != 1 {
			t.Errorf("the unchanged running state reported %d times, want once:\n%s", n, text)
		}
	})

	t.Run("zone-power starts its own template and follows its three actions", func(t *testing.T) {
		fake := &fakeFIS{
			actions: map[string]string{
				"StopZoneCInstances":  "aws:ec2:stop-instances",
				"PauseZoneCLaunches":  "aws:ec2:asg-insufficient-instance-capacity-error",
				"DisruptZoneCSubnets": "aws:network:disrupt-connectivity",
			},
			states: []map[string]any{
				{"status": "running", "action": "running"},
				{"status": "completed", "reason": "Experiment completed.", "action": "completed"},
			},
		}
		l := fisLab(t, fake, target.AWS, map[string]string{
			lab.OutputExperimentDependencyLoss: "EXT9z8y7",
			lab.OutputExperimentZonePower:      "EXTzone42",
		})
		var lines []string
		exp, err := l.FaultViaFIS(context.Background(), lab.FaultZonePower, "tok-zp", func(m string) { lines = append(lines, m) })
		if err != nil || exp.Status != "completed" || exp.TemplateID != "EXTzone42" {
			t.Fatalf("FaultViaFIS: %+v, %v", exp, err)
		}
		if fake.started["experimentTemplateId"] != "EXTzone42" || fake.started["clientToken"] != "tok-zp" {
			t.Errorf("StartExperiment body %v, want the zone-power template", fake.started)
		}
		text := strings.Join(lines, "\n")
		for _, want := range []string{
			"experiment EXP1a2b3c started from template EXTzone42 (zone-power)",
			"experiment EXP1a2b3c: running; DisruptZoneCSubnets aws:network:disrupt-connectivity: running; " +
				"PauseZoneCLaunches aws:ec2:asg-insufficient-instance-capacity-error: running; " +
				"StopZoneCInstances aws:ec2:stop-instances: running",
			"experiment EXP1a2b3c: completed (Experiment completed.); DisruptZoneCSubnets",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("progress lacks %q:\n%s", want, text)
			}
		}
		if got := strings.Join(fake.requests, ","); got != "POST /experiments,GET /experiments/EXP1a2b3c,GET /experiments/EXP1a2b3c" {
			t.Errorf("requests %s", got)
		}
	})

	t.Run("a stop condition is an error that says so", func(t *testing.T) {
		fake := &fakeFIS{states: []map[string]any{
			{"status": "running", "action": "running"},
			{"status": "stopped", "reason": "Experiment stopped by stop condition.", "action": "stopped"},
		}}
		l := fisLab(t, fake, target.AWS, outputs)
		_, err := l.FaultViaFIS(context.Background(), lab.FaultDependencyLoss, "tok-2", func(string) {})
		if err == nil || !strings.Contains(err.Error(), "experiment EXP1a2b3c stopped: Experiment stopped by stop condition.") {
			t.Errorf("error %v", err)
		}
	})

	t.Run("Ctrl-C stops following only, and says how to go on", func(t *testing.T) {
		fake := &fakeFIS{states: []map[string]any{{"status": "running", "action": "running"}}}
		l := fisLab(t, fake, target.AWS, outputs)
		ctx, cancel := context.WithCancel(context.Background())
		_, err := l.FaultViaFIS(ctx, lab.FaultDependencyLoss, "tok-3", func(m string) {
			if strings.Contains(m, "running") {
				cancel()
			}
		})
		var in *Interrupted
		if !errors.As(err, &in) || !strings.Contains(err.Error(), "aws fis get-experiment --id EXP1a2b3c") ||
			!strings.Contains(err.Error(), "aws fis stop-experiment --id EXP1a2b3c") {
			t.Errorf("error %v, want an Interrupted naming the experiment", err)
		}
		for _, r := range fake.requests {
			if strings.HasPrefix(r, "DELETE") {
				t.Errorf("the experiment was stopped: %v", fake.requests)
			}
		}
	})

	for _, tc := range []struct {
		name    string
		kind    target.Kind
		fault   string
		outputs map[string]string
		want    string
	}{
		{"local lab", target.Local, lab.FaultDependencyLoss, outputs, "--via fis needs --target aws"},
		{"stack without the experiments", target.AWS, lab.FaultDependencyLoss, map[string]string{}, "deploy it with `-c FaultInjection=true`"},
		{"unknown fault", target.AWS, "meteor", outputs, "use one of dependency-loss, dependency-outage, instance-loss, stale-credentials, zone-power"},
		{"zone-power on a stack without it", target.AWS, lab.FaultZonePower, outputs, "stack HealthCheckLab has no output ExperimentZonePower"},
		{"zone-power on the local lab", target.Local, lab.FaultZonePower, outputs, "--via fis needs --target aws"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeFIS{states: []map[string]any{{"status": "completed"}}}
			l := fisLab(t, fake, tc.kind, tc.outputs)
			_, err := l.FaultViaFIS(context.Background(), tc.fault, "tok", func(string) {})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
			if len(fake.requests) != 0 {
				t.Errorf("calls made: %v", fake.requests)
			}
		})
	}
}
