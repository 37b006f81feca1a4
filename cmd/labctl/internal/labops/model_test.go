package labops_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"healthchecklab/cmd/labctl/internal/labops"
	"healthchecklab/cmd/labctl/internal/labtest"
	"healthchecklab/cmd/labctl/internal/target"
	"healthchecklab/cmd/labctl/internal/view"
	"healthchecklab/internal/awslocal/region"
	"healthchecklab/internal/lab"
)

// progress collects a verb's progress lines.
type progress struct {
	mu    sync.Mutex
	lines []string
}

func (p *progress) add(s string) { p.mu.Lock(); p.lines = append(p.lines, s); p.mu.Unlock() }

func (p *progress) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

// verbCase is one verb run against the in-process lab on a target.
type verbCase struct {
	name  string
	code  lab.ServerCode     // what the lab starts with
	only  target.Kind        // "" for both targets
	setup func(*labtest.Lab) // before the lab is opened
	// run does the verb and checks what it did; it gets the lab, the opened stack and the
	// progress sink the verb was given.
	run func(t *testing.T, h *labtest.Lab, l *labops.Lab, p *progress)
}

// zoneOf returns the status row of the serving instance in zone letter z.
func zoneOf(t *testing.T, st labops.Status, z string) view.Target {
	t.Helper()
	for _, tg := range st.Targets {
		if tg.Current && tg.Letter == z {
			return tg
		}
	}
	t.Fatalf("no serving target in zone %s: %+v", z, st.Targets)
	return view.Target{}
}

func status(t *testing.T, l *labops.Lab) labops.Status {
	t.Helper()
	st, err := l.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func sample(t *testing.T, l *labops.Lab, n int) labops.Sample {
	t.Helper()
	sm, err := l.Sample(context.Background(), n)
	if err != nil {
		t.Fatal(err)
	}
	return sm
}

// answers words a sample per zone letter: "a:200×3/p3 b:502×3".
func answers(sm labops.Sample) string {
	var parts []string
	for _, z := range sm.Zones {
		var codes []string
		for c, n := range z.Codes {
			codes = append(codes, c+"×"+strconv.Itoa(n))
		}
		slices.Sort(codes)
		p := z.Letter + ":" + strings.Join(codes, ",")
		if z.Personalized > 0 {
			p += "/p" + strconv.Itoa(z.Personalized)
		}
		if z.Static > 0 {
			p += "/s" + strconv.Itoa(z.Static)
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, " ")
}

// settle lets the lab run for a while, as a user takes time between two commands.
func settle(t *testing.T, h *labtest.Lab, d time.Duration) {
	t.Helper()
	if err := h.Sleep(context.Background(), d); err != nil {
		t.Fatal(err)
	}
}

// TestVerbsOnModel runs each of labops's verbs against the in-process lab (the region
// model behind the AWS endpoint) on both targets, on the fake clock.
func TestVerbsOnModel(t *testing.T) {
	t.Parallel() // its own in-process lab; no environment of the process
	ctx := context.Background()
	noDDB := lab.NoDDBRoleName(lab.DefaultNamingPrefix)
	cases := []verbCase{
		{
			name: "status", code: lab.CodeBasic,
			run: func(t *testing.T, h *labtest.Lab, l *labops.Lab, _ *progress) {
				st := status(t, l)
				if st.ServerCode != "basic" || st.Parameter != "true" || st.StackStatus != "CREATE_COMPLETE" || st.Busy != "" ||
					st.Account != region.AccountID || st.Region != region.Name || st.URL != h.URL {
					t.Fatalf("status = %+v", st)
				}
				if len(st.Targets) != 3 || len(st.Zones) != 3 {
					t.Fatalf("targets %+v, zones %v", st.Targets, st.Zones)
				}
				for _, tg := range st.Targets {
					if tg.State != "healthy" || !tg.Current || tg.Lifecycle != "InService" || tg.ServerCode != "basic" ||
						tg.Role != lab.RoleName(lab.DefaultNamingPrefix) || tg.Zone != region.ZoneName(tg.Letter) {
						t.Errorf("target %+v", tg)
					}
				}
				if st.HealthCheck.IntervalSeconds != 15 || st.HealthCheck.DeregistrationDelay != 10 || st.HealthCheck.Path != "/healthcheck" {
					t.Errorf("health check %+v", st.HealthCheck)
				}
				local := l.T.Kind == target.Local
				if (st.Counters != nil) != local || (st.Lab != nil) != local || (st.Endpoint != "") != local {
					t.Errorf("on %s: counters %v, lab %v, endpoint %q", l.T.Kind, st.Counters, st.Lab, st.Endpoint)
				}
				if local && (st.Lab.StateFile != h.StatePath || len(st.Targets[0].Checks) == 0 || st.Targets[0].NextCheck == nil) {
					t.Errorf("local lab identity %+v, checks %+v", st.Lab, st.Targets[0])
				}
			},
		},
		{
			name: "sample", code: lab.CodeBasic,
			run: func(t *testing.T, h *labtest.Lab, l *labops.Lab, _ *progress) {
				sm := sample(t, l, 9)
				if got := answers(sm); got != "a:200×3/p3 b:200×3/p3 c:200×3/p3" {
					t.Fatalf("sample: %s", got)
				}
				if z := sm.Zones[0]; z.Text == "" || len(z.Instances) != 1 || !strings.HasPrefix(z.Instances[0], "i-") {
					t.Errorf("zone a: %+v", z)
				}
				if l.T.Kind == target.Local {
					if sm.Counters == nil || sm.Counters.Requests != 9 || sm.Counters.ELB5xx != 0 {
						t.Errorf("counters during the sample: %+v", sm.Counters)
					}
					if st := status(t, l); zoneOf(t, st, "b").Requests != 3 {
						t.Errorf("zone b served %d requests, want 3", zoneOf(t, st, "b").Requests)
					}
				} else if sm.Counters != nil {
					t.Errorf("counters on AWS: %+v", sm.Counters)
				}
			},
		},
		{
			name: "dependency off on basic: the load balancer answers 502", code: lab.CodeBasic,
			run: func(t *testing.T, h *labtest.Lab, l *labops.Lab, _ *progress) {
				v, err := l.SetDependency(ctx, false)
				if err != nil || v != 2 {
					t.Fatalf("SetDependency(false) = %d, %v", v, err)
				}
				if st := status(t, l); st.Parameter != "false" {
					t.Fatalf("parameter %q", st.Parameter)
				}
				if got := answers(sample(t, l, 6)); got != "a:502×2 b:502×2 c:502×2" {
					t.Fatalf("sample: %s", got)
				}
				settle(t, h, time.Minute)
				for _, tg := range status(t, l).Targets {
					if tg.State != "healthy" {
						t.Errorf("shallow check: target %s %s", tg.InstanceID, tg.State)
					}
				}
				if v, err := l.SetDependency(ctx, true); err != nil || v != 3 {
					t.Fatalf("SetDependency(true) = %d, %v", v, err)
				}
				if got := answers(sample(t, l, 3)); got != "a:200×1/p1 b:200×1/p1 c:200×1/p1" {
					t.Fatalf("sample after on: %s", got)
				}
			},
		},
		{
			name: "dependency off on errorhandling: static answers with the diagnostic", code: lab.CodeErrorHandling,
			run: func(t *testing.T, h *labtest.Lab, l *labops.Lab, _ *progress) {
				if _, err := l.SetDependency(ctx, false); err != nil {
					t.Fatal(err)
				}
				sm := sample(t, l, 3)
				if got := answers(sm); got != "a:200×1/s1 b:200×1/s1 c:200×1/s1" {
					t.Fatalf("sample: %s", got)
				}
				if d := sm.Zones[0].Diagnostics; len(d) != 1 || !strings.Contains(d[0], "ResourceNotFoundException") {
					t.Errorf("diagnostic %v", d)
				}
			},
		},
		{
			name: "dependency off on healthcheck: every target unhealthy, failing open", code: lab.CodeHealthCheck,
			run: func(t *testing.T, h *labtest.Lab, l *labops.Lab, _ *progress) {
				if _, err := l.SetDependency(ctx, false); err != nil {
					t.Fatal(err)
				}
				settle(t, h, 3*15*time.Second)
				for _, tg := range status(t, l).Targets {
					if tg.State != "unhealthy" || tg.Reason != "Target.ResponseCodeMismatch" || !strings.Contains(tg.Description, "[503]") {
						t.Errorf("target %+v", tg)
					}
				}
				sm := sample(t, l, 3)
				if got := answers(sm); got != "a:200×1/s1 b:200×1/s1 c:200×1/s1" {
					t.Fatalf("sample: %s", got)
				}
				if l.T.Kind == target.Local && sm.Counters.FailOpen != 3 {
					t.Errorf("fail open %d, want 3", sm.Counters.FailOpen)
				}
			},
		},
		{
			name: "fault stale-credentials: zone c static with AccessDenied, still healthy", code: lab.CodeErrorHandling,
			run: func(t *testing.T, h *labtest.Lab, l *labops.Lab, _ *progress) {
				before := zoneOf(t, status(t, l), "c")
				msg, err := l.StaleCredentials(ctx, "c")
				if err != nil || !strings.Contains(msg, before.InstanceID) || !strings.Contains(msg, noDDB) {
					t.Fatalf("StaleCredentials = %q, %v", msg, err)
				}
				settle(t, h, time.Minute)
				st := status(t, l)
				if c := zoneOf(t, st, "c"); c.Role != noDDB || c.State != "healthy" || c.InstanceID != before.InstanceID {
					t.Fatalf("zone c: %+v", c)
				}
				sm := sample(t, l, 6)
				if got := answers(sm); got != "a:200×2/p2 b:200×2/p2 c:200×2/s2" {
					t.Fatalf("sample: %s", got)
				}
				if d := sm.Zones[2].Diagnostics; len(d) != 1 || !strings.Contains(d[0], "AccessDenied") || !strings.Contains(d[0], noDDB) {
					t.Errorf("zone c diagnostic %v", d)
				}
				again, err := l.StaleCredentials(ctx, "c")
				if err != nil || !strings.Contains(again, "already has instance profile") {
					t.Errorf("again: %q, %v", again, err)
				}
			},
		},
		{
			name: "fault stale-credentials on healthcheck: zone c unhealthy, routed around", code: lab.CodeHealthCheck,
			run: func(t *testing.T, h *labtest.Lab, l *labops.Lab, _ *progress) {
				if _, err := l.StaleCredentials(ctx, "local-1c"); err != nil {
					t.Fatal(err)
				}
				settle(t, h, 3*15*time.Second)
				if c := zoneOf(t, status(t, l), "c"); c.State != "unhealthy" {
					t.Fatalf("zone c: %+v", c)
				}
				if got := answers(sample(t, l, 6)); got != "a:200×3/p3 b:200×3/p3 c:" {
					t.Fatalf("sample: %s", got)
				}
			},
		},
		{
			name: "fault with an unknown zone", code: lab.CodeBasic,
			run: func(t *testing.T, h *labtest.Lab, l *labops.Lab, _ *progress) {
				_, err := l.StaleCredentials(ctx, "d")
				if err == nil || !strings.Contains(err.Error(), "a (local-1a), b (local-1b), c (local-1c)") {
					t.Fatalf("StaleCredentials(d) = %v", err)
				}
			},
		},
		{
			name: "fault via FIS needs AWS", code: lab.CodeBasic, only: target.Local,
			run: func(t *testing.T, h *labtest.Lab, l *labops.Lab, p *progress) {
				_, err := l.FaultViaFIS(ctx, lab.FaultDependencyLoss, "tok", p.add)
				if err == nil || !strings.Contains(err.Error(), "--via fis needs --target aws") {
					t.Fatalf("FaultViaFIS on the local lab = %v", err)
				}
			},
		},
		{
			name: "fault via FIS on a stack without the experiments", code: lab.CodeBasic, only: target.AWS,
			run: func(t *testing.T, h *labtest.Lab, l *labops.Lab, p *progress) {
				_, err := l.FaultViaFIS(ctx, lab.FaultDependencyLoss, "tok", p.add)
				if err == nil || !strings.Contains(err.Error(), "has no output "+lab.OutputExperimentDependencyLoss) ||
					!strings.Contains(err.Error(), "-c FaultInjection=true") {
					t.Fatalf("FaultViaFIS = %v", err)
				}
			},
		},
		{
			name: "repair interrupted: the replacement goes on without labctl", code: lab.CodeBasic,
			run: func(t *testing.T, h *labtest.Lab, l *labops.Lab, p *progress) {
				ictx, stop := context.WithCancel(ctx)
				err := l.Repair(ictx, "a", labops.DefaultTimeout, func(s string) { p.add(s); stop() })
				var in *labops.Interrupted
				if !errors.As(err, &in) || !strings.Contains(in.What, "the replacement of") {
					t.Fatalf("Repair after Ctrl-C = %v", err)
				}
				want := map[target.Kind]string{target.Local: "keeps going in the local lab", target.AWS: "keeps going on AWS"}[l.T.Kind]
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%v: want %q", err, want)
				}
				// The group replaces the instance anyway.
				settle(t, h, 2*time.Minute)
				if a := zoneOf(t, status(t, l), "a"); a.State != "healthy" || !strings.HasPrefix(a.Lifecycle, "InService") {
					t.Errorf("zone a after the interrupted repair: %+v", a)
				}
			},
		},
		{
			name: "verify: a whole lab passes at once, a broken one fails after the timeout", code: lab.CodeHealthCheck,
			run: func(t *testing.T, h *labtest.Lab, l *labops.Lab, p *progress) {
				start := h.Now()
				if err := l.VerifyWhole(ctx, 0, p.add); err != nil || h.Now() != start {
					t.Fatalf("VerifyWhole on a whole lab = %v after %s", err, h.Now().Sub(start))
				}
				if _, err := l.StaleCredentials(ctx, "b"); err != nil {
					t.Fatal(err)
				}
				err := l.VerifyWhole(ctx, time.Minute, p.add)
				if err == nil || !strings.Contains(err.Error(), "zone b: target ") || h.Now().Sub(start) < time.Minute {
					t.Fatalf("VerifyWhole with stale credentials in b = %v after %s", err, h.Now().Sub(start))
				}
				if out := p.String(); !strings.Contains(out, "waiting for the lab to be whole: zone b:") {
					t.Errorf("progress:\n%s", out)
				}
			},
		},
		{
			name: "repair: a new instance in the zone, healthy, the old one gone", code: lab.CodeErrorHandling,
			run: func(t *testing.T, h *labtest.Lab, l *labops.Lab, p *progress) {
				if _, err := l.StaleCredentials(ctx, "c"); err != nil {
					t.Fatal(err)
				}
				old := zoneOf(t, status(t, l), "c").InstanceID
				start := h.Now()
				if err := l.Repair(ctx, "c", labops.DefaultTimeout, p.add); err != nil {
					t.Fatalf("Repair: %v\n%s", err, p)
				}
				took := h.Now().Sub(start)
				st := status(t, l)
				c := zoneOf(t, st, "c")
				if c.InstanceID == old || c.State != "healthy" || c.Role != lab.RoleName(lab.DefaultNamingPrefix) || c.ServerCode != "errorhandling" {
					t.Fatalf("zone c after repair: %+v", c)
				}
				for _, tg := range st.Targets {
					if tg.InstanceID == old {
						t.Errorf("old target still listed: %+v", tg)
					}
				}
				out := p.String()
				for _, want := range []string{"Auto Scaling:", old + ": Terminating", "replacement " + c.InstanceID + " in local-1c",
					"target " + c.InstanceID + ": healthy", c.InstanceID + " in local-1c is healthy",
					"old target " + old + " deregistered; zone local-1c is served by " + c.InstanceID} {
					if !strings.Contains(out, want) {
						t.Errorf("progress lacks %q:\n%s", want, out)
					}
				}
				// The old target drains for the deregistration delay before the replacement
				// launches; then it must pass a check. All of it on the fake clock.
				if took < lab.TargetGroupHealthCheck.DeregistrationDelay || took > 2*time.Minute {
					t.Errorf("repair took %s of the lab's time", took)
				}
				if got := answers(sample(t, l, 3)); got != "a:200×1/p1 b:200×1/p1 c:200×1/p1" {
					t.Errorf("sample after repair: %s", got)
				}
			},
		},
		{
			name: "repair that never gets a replacement times out on the lab's clock", code: lab.CodeBasic,
			run: func(t *testing.T, h *labtest.Lab, l *labops.Lab, p *progress) {
				h.FailLaunches("b")
				start := h.Now()
				err := l.Repair(ctx, "b", 3*time.Minute, p.add)
				if err == nil || !strings.Contains(err.Error(), "in local-1b: not done after 3m0s") {
					t.Fatalf("Repair = %v\n%s", err, p)
				}
				if took := h.Now().Sub(start); took < 3*time.Minute || took > 4*time.Minute {
					t.Errorf("gave up after %s of the lab's time", took)
				}
				if out := p.String(); !strings.Contains(out, "still waiting: Auto Scaling has not launched a replacement in local-1b yet") {
					t.Errorf("no heartbeat in the progress:\n%s", out)
				}
			},
		},
		{
			name: "repair into a broken dependency on healthcheck: the new target is unhealthy", code: lab.CodeHealthCheck,
			run: func(t *testing.T, h *labtest.Lab, l *labops.Lab, p *progress) {
				h.SetParameter("false")
				err := l.Repair(ctx, "b", labops.DefaultTimeout, p.add)
				if err == nil || !strings.Contains(err.Error(), "in local-1b is unhealthy: Target.ResponseCodeMismatch") {
					t.Fatalf("Repair = %v\n%s", err, p)
				}
			},
		},
		{
			name: "deploy", code: lab.CodeBasic,
			run: func(t *testing.T, h *labtest.Lab, l *labops.Lab, p *progress) {
				before := status(t, l)
				if err := l.Deploy(ctx, lab.CodeHealthCheck, p.add); err != nil {
					t.Fatalf("Deploy: %v\n%s", err, p)
				}
				st := status(t, l)
				if st.ServerCode != "healthcheck" || st.StackStatus != "UPDATE_COMPLETE" || st.Busy != "" || st.Operation != nil {
					t.Fatalf("after deploy: %+v", st)
				}
				for _, z := range []string{"a", "b", "c"} {
					if n, o := zoneOf(t, st, z), zoneOf(t, before, z); n.InstanceID == o.InstanceID || n.State != "healthy" {
						t.Errorf("zone %s: %+v (was %s)", z, n, o.InstanceID)
					}
				}
				out := p.String()
				if !strings.Contains(out, "rolling update to ServerCode healthcheck") || !strings.Contains(out, "rolling update to healthcheck complete") {
					t.Errorf("progress:\n%s", out)
				}
				// Progress is timed on the lab's clock: the last line is minutes in, not 0.0s.
				last := p.lines[len(p.lines)-1]
				if strings.HasPrefix(strings.TrimSpace(last), "0.0s") {
					t.Errorf("last line %q: not timed on the lab's clock", last)
				}
				if l.T.Kind == target.AWS {
					// The CDK CLI's output is passed on, and target health followed beside it.
					for _, want := range []string{"running npx cdk deploy HealthCheckLab -c ServerCode=healthcheck --require-approval never",
						"cdk │ HealthCheckLab | rolling update to ServerCode healthcheck", ", healthcheck", "deployed"} {
						if !strings.Contains(out, want) {
							t.Errorf("progress lacks %q:\n%s", want, out)
						}
					}
				}
				if err := l.Deploy(ctx, "canary", p.add); err == nil {
					t.Error("deploy of an unknown ServerCode succeeded")
				}
			},
		},
		{
			// Chapter 11's trap through the verbs: a deploy with health-check type ELB makes
			// Auto Scaling replace the instances whose deep check fails, which status counts;
			// a deploy without the type puts EC2 back, and the replacing stops.
			name: "deploy with health-check type ELB: the trap", code: lab.CodeHealthCheck,
			run: func(t *testing.T, h *labtest.Lab, l *labops.Lab, p *progress) {
				if st := status(t, l); st.AsgHealthCheck != "EC2" || st.GraceSeconds != lab.HealthCheckGracePeriod.Seconds() || len(st.Replacements) != 0 {
					t.Fatalf("before: %s %v %+v", st.AsgHealthCheck, st.GraceSeconds, st.Replacements)
				}
				if err := l.DeployWith(ctx, lab.CodeHealthCheck, lab.AsgHealthCheckELB, p.add); err != nil {
					t.Fatalf("DeployWith ELB: %v\n%s", err, p)
				}
				if st := status(t, l); st.AsgHealthCheck != "ELB" {
					t.Fatalf("after the deploy: %s", st.AsgHealthCheck)
				}
				if l.T.Kind == target.AWS && !strings.Contains(p.String(), "-c AsgHealthCheck=ELB") {
					t.Errorf("cdk without the context key:\n%s", p)
				}
				if _, err := l.SetDependency(ctx, false); err != nil {
					t.Fatal(err)
				}
				outage := h.Now()
				settle(t, h, lab.HealthCheckGracePeriod+2*time.Minute)
				replaced := status(t, l).ReplacedSince(outage)
				for _, z := range []string{"a", "b", "c"} {
					if replaced[z] == 0 {
						t.Fatalf("replaced during the outage: %v", replaced)
					}
				}
				if _, err := l.SetDependency(ctx, true); err != nil {
					t.Fatal(err)
				}
				if err := l.Deploy(ctx, lab.CodeHealthCheck, p.add); err != nil {
					t.Fatalf("Deploy back: %v\n%s", err, p)
				}
				back := h.Now()
				if st := status(t, l); st.AsgHealthCheck != "EC2" {
					t.Fatalf("after the deploy back: %s", st.AsgHealthCheck)
				}
				if _, err := l.SetDependency(ctx, false); err != nil { // the same outage again, with EC2
					t.Fatal(err)
				}
				settle(t, h, lab.HealthCheckGracePeriod+2*time.Minute)
				if n := status(t, l).ReplacedSince(back); len(n) != 0 {
					t.Fatalf("replaced with EC2: %v", n)
				}
				if err := l.DeployWith(ctx, lab.CodeHealthCheck, "TCP", p.add); err == nil || !strings.Contains(err.Error(), "EC2, ELB") {
					t.Errorf("health-check type TCP: %v", err)
				}
			},
		},
		{
			// Chapter 12's fault: zone c loses power for five minutes. On AWS it is the
			// stack's FIS experiment only.
			name: "zone-power", code: lab.CodeHealthCheck,
			run: func(t *testing.T, h *labtest.Lab, l *labops.Lab, _ *progress) {
				_, err := l.ZonePower(ctx, "c", lab.FaultDuration)
				if l.T.Kind == target.AWS {
					if err == nil || !strings.Contains(err.Error(), "labctl --target aws fault zone-power --via fis") {
						t.Fatalf("on AWS: %v", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if _, err := l.ZonePower(ctx, "c", lab.FaultDuration); err == nil || !strings.Contains(err.Error(), "already without power") {
					t.Errorf("second power cut: %v", err)
				}
				settle(t, h, 2*time.Minute)
				st := status(t, l)
				n := map[string]int{}
				for _, tg := range st.Targets {
					if tg.Current && tg.State == "healthy" {
						n[tg.Letter]++
					}
				}
				if n["a"]+n["b"] != 3 || n["c"] != 0 {
					t.Fatalf("during the window, healthy serving targets by zone %v: %+v", n, st.Targets)
				}
				// Every answer personalized, from zones a and b only.
				if got := answers(sample(t, l, 6)); strings.Contains(got, "c:") || strings.Count(got, "/p") != len(strings.Fields(got)) {
					t.Errorf("sample during the window: %s", got)
				}
				settle(t, h, lab.FaultDuration)
				n = map[string]int{}
				for _, tg := range status(t, l).Targets {
					if tg.Current && tg.State == "healthy" {
						n[tg.Letter]++
					}
				}
				if n["a"] != 1 || n["b"] != 1 || n["c"] != 1 {
					t.Fatalf("after the window, healthy serving targets by zone %v", n)
				}
			},
		},
		{
			name: "reset from a broken lab, nothing to deploy", code: lab.CodeBasic,
			run: func(t *testing.T, h *labtest.Lab, l *labops.Lab, p *progress) {
				if _, err := l.SetDependency(ctx, false); err != nil {
					t.Fatal(err)
				}
				if _, err := l.StaleCredentials(ctx, "a"); err != nil {
					t.Fatal(err)
				}
				settle(t, h, 30*time.Second)
				ids := status(t, l).Zones
				if err := l.Reset(ctx, lab.CodeBasic, p.add); err != nil {
					t.Fatalf("Reset: %v\n%s", err, p)
				}
				st := status(t, l)
				if st.Parameter != "true" || zoneOf(t, st, "a").Role != lab.RoleName(lab.DefaultNamingPrefix) || st.Zones["a"] != ids["a"] {
					t.Fatalf("after reset: %+v", st)
				}
				out := p.String()
				for _, want := range []string{"RecommendationServiceEnabled=true", "now has instance profile " + lab.RoleName(lab.DefaultNamingPrefix),
					"ServerCode basic already runs: nothing to deploy", "checked: 3 healthy targets, and 6 of 6 answers personalized"} {
					if !strings.Contains(out, want) {
						t.Errorf("progress lacks %q:\n%s", want, out)
					}
				}
			},
		},
		{
			name: "reset to another ServerCode deploys it", code: lab.CodeHealthCheck,
			run: func(t *testing.T, h *labtest.Lab, l *labops.Lab, p *progress) {
				if err := l.Reset(ctx, lab.CodeBasic, p.add); err != nil {
					t.Fatalf("Reset: %v\n%s", err, p)
				}
				if st := status(t, l); st.ServerCode != "basic" {
					t.Fatalf("after reset: %s", st.ServerCode)
				}
				if out := p.String(); !strings.Contains(out, "the instances run ServerCode healthcheck: deploying basic") {
					t.Errorf("progress:\n%s", out)
				}
			},
		},
		{
			name: "reset on a lab whose web servers stay broken fails after the settle time", code: lab.CodeErrorHandling,
			setup: func(h *labtest.Lab) { h.Break(lab.CodeBasic, true) },
			run: func(t *testing.T, h *labtest.Lab, l *labops.Lab, p *progress) {
				// Every server drops the connection whatever the stack says: a lab reset cannot fix.
				h.SetParameter("false")
				start := h.Now()
				err := l.Reset(ctx, lab.CodeErrorHandling, p.add)
				if err == nil || !strings.Contains(err.Error(), "the lab is not healthy 1m45s after reset") ||
					!strings.Contains(err.Error(), "0 of 2 answers personalized (502×2)") {
					t.Fatalf("Reset = %v\n%s", err, p)
				}
				if took := h.Now().Sub(start); took < 105*time.Second {
					t.Errorf("gave up after %s of the lab's time", took)
				}
			},
		},
		{
			name: "describe", code: lab.CodeBasic,
			run: func(t *testing.T, h *labtest.Lab, l *labops.Lab, _ *progress) {
				want := "HealthCheckLab in local-1 (account " + region.AccountID + ")"
				if l.T.Kind == target.Local {
					want = "local lab at " + h.URL
				}
				if got := l.Describe(); got != want {
					t.Errorf("Describe = %q, want %q", got, want)
				}
				d, err := labops.OpenForDeploy(ctx, l.T)
				if err != nil || d.Output(lab.OutputTargetGroupArn) != h.R.TargetGroupARN() {
					t.Errorf("OpenForDeploy: %v, %v", d, err)
				}
			},
		},
		{
			name: "local down", code: lab.CodeBasic, only: target.Local,
			run: func(t *testing.T, h *labtest.Lab, l *labops.Lab, _ *progress) {
				if err := l.T.Lab.Shutdown(ctx); err != nil || h.Shutdowns() != 1 {
					t.Fatalf("Shutdown: %v, %d calls", err, h.Shutdowns())
				}
			},
		},
	}
	for _, kind := range []target.Kind{target.Local, target.AWS} {
		for _, c := range cases {
			if c.only != "" && c.only != kind {
				continue
			}
			t.Run(string(kind)+"/"+c.name, func(t *testing.T) {
				h := labtest.New(t, c.code)
				if c.setup != nil {
					c.setup(h)
				}
				l := h.Open(kind)
				c.run(t, h, l, &progress{})
			})
		}
	}
}
