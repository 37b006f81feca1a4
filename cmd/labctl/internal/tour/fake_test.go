package tour

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"healthchecklab/cmd/labctl/internal/view"
	"healthchecklab/internal/lab"
	"healthchecklab/internal/labclient"
	"healthchecklab/internal/targethealth"
)

// fakeClock advances only when the tour sleeps, so waits take no real time.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
	return nil
}

// fakeLab follows the lab's rules (expect) with a lag: a change shows lag after it was
// made, as health checks and the servers' caches delay it on the real lab. It is here to
// test the runner (prompts, --from, interruption, transcript); the story itself is tested
// against the real local lab by labctl's end-to-end test.
type fakeLab struct {
	clock *fakeClock
	lag   time.Duration
	zones []string

	shown, next Setup
	at          time.Time // when next shows
	ids         map[string]string
	serial      int
	counters    labclient.LBCounters

	// wrongZone, when set, is where stale credentials land whatever zone was asked for.
	wrongZone string
	// stuckCode holds the ServerCode a zone's instance reports whatever was deployed.
	stuckCode map[string]string
	// onDeploy runs at the start of every deploy (a test's Ctrl-C).
	onDeploy func()
	calls    []string
}

func newFakeLab(clock *fakeClock, s Setup) *fakeLab {
	f := &fakeLab{clock: clock, lag: 3 * time.Second, zones: []string{"a", "b", "c"}, shown: s, next: s, ids: map[string]string{}}
	for _, z := range f.zones {
		f.replace(z)
	}
	return f
}

func (f *fakeLab) replace(z string) {
	f.serial++
	f.ids[z] = fmt.Sprintf("i-0%015x%s", f.serial, z)
}

func (f *fakeLab) setup() Setup {
	if !f.clock.Now().Before(f.at) {
		f.shown = f.next
	}
	return f.shown
}

func (f *fakeLab) change(fn func(*Setup)) {
	f.setup()
	fn(&f.next)
	f.at = f.clock.Now().Add(f.lag)
}

func (f *fakeLab) Describe() string { return "fake lab" }

func (f *fakeLab) Status(context.Context) (view.Status, error) {
	s := f.setup()
	e := expect(s, f.zones)
	st := view.Status{ServerCode: string(s.Code), Parameter: fmt.Sprint(s.DependencyOn), HealthCheck: lab.TargetGroupHealthCheck}
	for _, z := range f.zones {
		t := view.Target{Letter: z, InstanceID: f.ids[z], State: string(e.States[z]), Role: lab.RoleName("WebApp1"),
			ServerCode: string(s.Code), Current: true, Requests: -1}
		if e.States[z] == targethealth.StateUnhealthy {
			t.Reason, t.Description = targethealth.ReasonResponseCodeMismatch, "Health checks failed with these codes: [503]"
		}
		if z == s.StaleLetter {
			t.Role = lab.NoDDBRoleName("WebApp1")
		}
		if c := f.stuckCode[z]; c != "" {
			t.ServerCode = c
		}
		st.Targets = append(st.Targets, t)
	}
	k := f.counters
	st.Counters = &k
	return st, nil
}

func (f *fakeLab) Sample(_ context.Context, n int) (view.Sample, error) {
	e := expect(f.setup(), f.zones)
	sm := view.Sample{URL: "http://fake", Requests: n, Codes: map[int]int{}, Counters: &labclient.LBCounters{}}
	by := map[string]*view.ZoneSample{}
	for _, z := range f.zones {
		by[z] = &view.ZoneSample{Letter: z, Codes: map[int]int{}}
	}
	for i := range n {
		z := e.Traffic[i%len(e.Traffic)]
		zs := by[z]
		zs.Requests++
		zs.Instances = []string{f.ids[z]}
		code := 200
		switch e.Answers[z] {
		case Personalized:
			zs.Personalized++
		case Static:
			zs.Static++
			zs.Diagnostic = "ResourceNotFoundException: Requested resource not found"
			if z == f.shown.StaleLetter && f.shown.DependencyOn {
				zs.Diagnostic = "AccessDeniedException: not authorized to perform: dynamodb:GetItem"
			}
		case Dropped:
			code = 502
			sm.Counters.ELB502++
			sm.Counters.ELB5xx++
		}
		if e.FailOpen {
			sm.Counters.FailOpen++
		}
		zs.Codes[code]++
		sm.Codes[code]++
	}
	for _, z := range f.zones {
		sm.Zones = append(sm.Zones, *by[z])
	}
	return sm, nil
}

func (f *fakeLab) ProbeHealthCheck(_ context.Context, n int) ([]Probe, error) {
	e := expect(f.setup(), f.zones)
	var ps []Probe
	for i := range n {
		z := e.Traffic[i%len(e.Traffic)]
		ok := e.States[z] == targethealth.StateHealthy
		code := 200
		if !ok {
			code = 503
		}
		ps = append(ps, Probe{Letter: z, Code: code, Healthy: ok})
	}
	return ps, nil
}

func (f *fakeLab) SetDependency(_ context.Context, on bool) error {
	f.calls = append(f.calls, fmt.Sprintf("dependency %v", on))
	f.change(func(s *Setup) { s.DependencyOn = on })
	return nil
}

func (f *fakeLab) StaleCredentials(_ context.Context, zone string) error {
	f.calls = append(f.calls, "fault "+zone)
	if f.wrongZone != "" {
		zone = f.wrongZone
	}
	f.change(func(s *Setup) { s.StaleLetter = zone })
	return nil
}

func (f *fakeLab) Repair(ctx context.Context, zone string, progress func(string)) error {
	f.calls = append(f.calls, "repair "+zone)
	f.replace(zone)
	progress("new instance " + f.ids[zone] + " in zone " + zone)
	f.change(func(s *Setup) {
		if s.StaleLetter == zone {
			s.StaleLetter = ""
		}
	})
	return f.clock.Sleep(ctx, f.lag)
}

func (f *fakeLab) ZonePower(context.Context, string, time.Duration) error {
	return errors.New("the fake lab has no zones to cut")
}

func (f *fakeLab) Deploy(ctx context.Context, code lab.ServerCode, _ lab.AsgHealthCheck, progress func(string)) error {
	f.calls = append(f.calls, "deploy "+string(code))
	if f.onDeploy != nil {
		f.onDeploy()
	}
	for _, z := range f.zones {
		if err := f.clock.Sleep(ctx, time.Second); err != nil {
			return err
		}
		f.replace(z)
		progress(fmt.Sprintf("zone %s: new instance %s healthy", z, f.ids[z]))
	}
	f.change(func(s *Setup) { s.Code, s.StaleLetter = code, "" })
	return f.clock.Sleep(ctx, f.lag)
}

func (f *fakeLab) Reset(ctx context.Context, code lab.ServerCode, progress func(string)) error {
	f.calls = append(f.calls, "reset "+string(code))
	if f.setup().Code != code {
		if err := f.Deploy(ctx, code, "", progress); err != nil {
			return err
		}
	}
	f.change(func(s *Setup) { *s = Setup{Code: code, DependencyOn: true} })
	return nil
}
