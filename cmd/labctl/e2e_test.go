package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"healthchecklab/cmd/labctl/internal/labops"
	"healthchecklab/cmd/labctl/internal/locallab"
	"healthchecklab/internal/lab"
	"healthchecklab/internal/localb"
	"healthchecklab/internal/repo"
)

// syncBuffer is a bytes.Buffer safe for the lab's concurrent progress writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// noEnv keeps the caller's LABCTL_STATE and XDG_RUNTIME_DIR out of the tests.
func noEnv(string) string { return "" }

// via is the target the verbs of the end-to-end test use: "" (the default, the running
// local lab) or "aws" (the same verbs with --target aws, reaching the lab's AWS endpoint
// through the standard AWS variables that `labctl local env` prints).
var via string

// labctl runs one labctl command line in-process against the lab behind state, on the
// target via names.
func labctl(t *testing.T, state string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if via != "" {
		args = append([]string{"--target", via}, args...)
	}
	code := run(ctx, append(args, "--state", state), &out, &errOut, noEnv)
	if code != 0 {
		return out.String(), fmt.Errorf("labctl %s: exit %d: %s", strings.Join(args, " "), code, strings.TrimSpace(errOut.String()))
	}
	return out.String(), nil
}

func mustLabctl(t *testing.T, state string, args ...string) string {
	t.Helper()
	out, err := labctl(t, state, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func status(t *testing.T, state string) labops.Status {
	t.Helper()
	var st labops.Status
	if err := json.Unmarshal([]byte(mustLabctl(t, state, "status", "--json")), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func sample(t *testing.T, state string, n int) sampled {
	t.Helper()
	var s sampled
	if err := json.Unmarshal([]byte(mustLabctl(t, state, "sample", "-n", fmt.Sprint(n), "--json")), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// eventually polls cond until it reports true, failing the test with cond's last
// explanation after a deadline generous enough for a loaded CI machine.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		ok, detail := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached: %s", what, detail)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// sampled is a sample with the test's helpers.
type sampled struct{ labops.Sample }

// zone returns the sample of one zone letter, or a zero ZoneSample.
func (s sampled) zone(letter string) zoneSample {
	for _, z := range s.Zones {
		if z.Letter == letter {
			return zoneSample{z}
		}
	}
	return zoneSample{}
}

// counters returns the load balancer's counters during the sample (the local lab has them).
func (s sampled) counters(t *testing.T) localb.Counters {
	t.Helper()
	if s.Counters == nil {
		t.Fatalf("sample without the local lab's counters: %s", s)
	}
	return *s.Counters
}

func (s sampled) String() string {
	b, _ := json.Marshal(s)
	return string(b)
}

// is reports whether the zone answered, only with 200s, all personalized (or all static).
type zoneSample struct{ labops.ZoneSample }

func (z zoneSample) is(personalized bool) bool {
	want := z.Static
	if personalized {
		want = z.Personalized
	}
	return z.Requests > 0 && z.Codes["200"] == z.Requests && want == z.Requests
}

// allZones checks that the sample came from exactly the given zones and that every answer
// was a 200 that is personalized (want true) or static (want false).
func (s sampled) allZones(personalized bool, letters ...string) (bool, string) {
	if len(s.Zones) != len(letters) {
		return false, fmt.Sprintf("want zones %v, got %s", letters, s)
	}
	for _, l := range letters {
		if !s.zone(l).is(personalized) {
			return false, fmt.Sprintf("zone %s (personalized %v wanted): %s", l, personalized, s)
		}
	}
	return true, ""
}

func zoneTarget(st labops.Status, letter string) labops.Target {
	for _, t := range st.Targets {
		if t.Current && t.Letter == letter {
			return t
		}
	}
	return labops.Target{}
}

func allCurrent(st labops.Status, f func(labops.Target) bool) (bool, string) {
	n := 0
	for _, t := range st.Targets {
		if !t.Current {
			continue
		}
		n++
		if !f(t) {
			b, _ := json.Marshal(st.Targets)
			return false, string(b)
		}
	}
	return n == len(locallab.Letters), fmt.Sprintf("%d current targets", n)
}

// TestLocalLabTenCheckpoints starts the local lab with --fast and walks the ten checkpoints
// of the lab (docs: ../shared/LAB.md) through labctl's verbs, asserting what a user sees.
func TestLocalLabTenCheckpoints(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole local lab; skipped with -short")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node is needed for dynalite (see README: Node 20+, then npm ci)")
	}
	root, err := repo.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	via = ""
	t.Cleanup(func() { via = "" })
	dir := t.TempDir()
	state := filepath.Join(dir, "local.json")
	bin := os.Getenv("LABCTL_WEBSERVER_BIN") // a prebuilt server saves the build
	if bin == "" {
		bctx, bcancel := context.WithTimeout(context.Background(), 5*time.Minute)
		bin, err = locallab.BuildWebServer(bctx, root, dir)
		bcancel()
		if err != nil {
			t.Fatal(err)
		}
	}

	if _, err := labctl(t, state, "status"); err == nil || !strings.Contains(err.Error(), "no lab running") {
		t.Fatalf("status before up: %v, want no lab running", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	var upOut syncBuffer
	upDone := make(chan int, 1)
	go func() {
		upDone <- run(ctx, []string{"local", "up", "--fast", "--port", "0", "--server-code", "basic",
			"--state", state, "--webserver-bin", bin, "--repo", root}, &upOut, &upOut, noEnv)
	}()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case code := <-upDone:
			if code != 0 {
				t.Errorf("local up exited %d:\n%s", code, upOut.String())
			}
		case <-time.After(60 * time.Second):
			t.Errorf("local up did not stop within 60s")
		}
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("local up output:\n%s", upOut.String())
		}
	})

	// mark logs how long each checkpoint took (go test -v shows it; docs/benchmarks.md quotes it).
	last := time.Now()
	mark := func(checkpoint string) {
		t.Logf("%-28s %5.1fs", checkpoint, time.Since(last).Seconds())
		last = time.Now()
	}

	// 1. basic: personalized from all three zones, all targets healthy.
	eventually(t, "lab up with three healthy targets", func() (bool, string) {
		select {
		case code := <-upDone:
			stopped = true
			t.Fatalf("local up exited %d before the lab was up:\n%s", code, upOut.String())
		default:
		}
		if _, err := labctl(t, state, "status"); err != nil {
			return false, err.Error()
		}
		return allCurrent(status(t, state), func(tg labops.Target) bool { return tg.State == "healthy" })
	})
	st := status(t, state)
	if st.ServerCode != "basic" || st.Parameter != "true" {
		t.Fatalf("checkpoint 1: server code %q, parameter %q", st.ServerCode, st.Parameter)
	}
	for _, tg := range st.Targets {
		if len(tg.InstanceID) != 19 || !strings.HasPrefix(tg.InstanceID, "i-0") || tg.Role != lab.RoleName(lab.DefaultNamingPrefix) {
			t.Fatalf("checkpoint 1: target %+v", tg)
		}
	}
	if ok, why := sample(t, state, 30).allZones(true, "a", "b", "c"); !ok {
		t.Fatalf("checkpoint 1: %s", why)
	}
	if out := mustLabctl(t, state, "sample", "-n", "6"); !strings.Contains(out, "local-1c") || !strings.Contains(out, "200×2") {
		t.Fatalf("checkpoint 1: sample table:\n%s", out)
	}
	// watch redraws until interrupted; into a buffer it prints the view once (it did not change).
	var watchOut bytes.Buffer
	wctx, wcancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	code := run(wctx, []string{"watch", "--interval", "200ms", "--state", state}, &watchOut, &watchOut, noEnv)
	wcancel()
	if code != 0 || !strings.Contains(watchOut.String(), "local-1a") || strings.Count(watchOut.String(), "healthy") < 3 {
		t.Fatalf("checkpoint 1: watch exit %d:\n%s", code, watchOut.String())
	}

	// From here on, the AWS variables of `labctl local env` are set as a shell's eval would,
	// so --target aws reaches the lab's endpoint through the SDK's standard configuration.
	setLocalEnv(t, state)
	checkBothTargets(t, state)
	checkErrorLines(t, state)

	mark("1 up, personalized")

	// 2. Dependency off with basic: every request a load-balancer 502, no target 5xx,
	// targets still healthy (the shallow check sees nothing).
	mustLabctl(t, state, "dependency", "off")
	eventually(t, "checkpoint 2: 502 from the load balancer", func() (bool, string) {
		s := sample(t, state, 12)
		ok := s.Codes["502"] == 12 && s.counters(t).ELB502 == 12 && s.counters(t).Target5xx == 0 && len(s.Zones) == 3
		return ok, s.String()
	})
	if ok, why := allCurrent(status(t, state), func(tg labops.Target) bool { return tg.State == "healthy" }); !ok {
		t.Fatalf("checkpoint 2: targets not all healthy: %s", why)
	}
	if st := status(t, state); st.Counters.Target5xx != 0 || st.Counters.ELB502 < 12 {
		t.Fatalf("checkpoint 2: counters %+v", st.Counters)
	}

	mark("2 dependency off: 502")

	// 3. Deploy errorhandling: new instances; with the service still off, static 200s from all zones.
	before := status(t, state)
	out := mustLabctl(t, state, "deploy", "--server-code", "errorhandling")
	if !strings.Contains(out, "complete") {
		t.Fatalf("checkpoint 3: deploy output:\n%s", out)
	}
	st = status(t, state)
	if st.ServerCode != "errorhandling" {
		t.Fatalf("checkpoint 3: server code %q", st.ServerCode)
	}
	for _, l := range locallab.Letters {
		if zoneTarget(st, l).InstanceID == zoneTarget(before, l).InstanceID || zoneTarget(st, l).ServerCode != "errorhandling" {
			t.Fatalf("checkpoint 3: zone %s not replaced: %+v", l, zoneTarget(st, l))
		}
	}
	if len(st.Targets) != 3 {
		t.Fatalf("checkpoint 3: old targets not drained: %+v", st.Targets)
	}
	s := sample(t, state, 12)
	if ok, why := s.allZones(false, "a", "b", "c"); !ok {
		t.Fatalf("checkpoint 3: %s", why)
	}
	if d := s.zone("a").Diagnostics; len(d) == 0 || !strings.Contains(d[0], "ResourceNotFound") {
		t.Fatalf("checkpoint 3: diagnostic %q, want the failed call's ResourceNotFoundException", d)
	}

	mark("3 deploy errorhandling")

	// 4. Dependency on: personalized everywhere (the aws target from here to 5).
	via = "aws"
	mustLabctl(t, state, "dependency", "on")
	eventually(t, "checkpoint 4: personalized again", func() (bool, string) {
		return sample(t, state, 12).allZones(true, "a", "b", "c")
	})

	mark("4 dependency on")

	// 5. Stale credentials in zone c: a and b personalized, c static; all still healthy.
	mustLabctl(t, state, "fault", "stale-credentials", "--az", "c")
	eventually(t, "checkpoint 5: zone c static", func() (bool, string) {
		s := sample(t, state, 12)
		ok := len(s.Zones) == 3 && s.zone("a").is(true) && s.zone("b").is(true) && s.zone("c").is(false)
		return ok, s.String()
	})
	st = status(t, state)
	if zoneTarget(st, "c").Role != lab.NoDDBRoleName(lab.DefaultNamingPrefix) {
		t.Fatalf("checkpoint 5: zone c role %q", zoneTarget(st, "c").Role)
	}
	if ok, why := allCurrent(st, func(tg labops.Target) bool { return tg.State == "healthy" }); !ok {
		t.Fatalf("checkpoint 5: the shallow check should keep every target healthy: %s", why)
	}

	mark("5 stale credentials in c")

	// 6. Deploy healthcheck: roles reset, all healthy, /healthcheck Success on all three
	// (the local lab's own rolling deploy).
	via = ""
	mustLabctl(t, state, "deploy", "--server-code", "healthcheck")
	st = status(t, state)
	if ok, why := allCurrent(st, func(tg labops.Target) bool {
		return tg.State == "healthy" && tg.ServerCode == "healthcheck" && tg.Role == lab.RoleName(lab.DefaultNamingPrefix)
	}); !ok {
		t.Fatalf("checkpoint 6: %s", why)
	}
	zonesOK := map[string]bool{}
	for range 3 {
		req, _ := http.NewRequest(http.MethodGet, st.URL+lab.TargetGroupHealthCheck.Path, nil)
		req.Header.Set("Accept", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var hc struct {
			Healthy  bool           `json:"healthy"`
			Metadata map[string]any `json:"metadata"`
		}
		err = json.NewDecoder(resp.Body).Decode(&hc)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || !hc.Healthy {
			t.Fatalf("checkpoint 6: /healthcheck %d healthy=%v err=%v", resp.StatusCode, hc.Healthy, err)
		}
		zonesOK[fmt.Sprint(hc.Metadata["availability_zone"])] = true
	}
	if len(zonesOK) != 3 {
		t.Fatalf("checkpoint 6: /healthcheck answered from %v, want three zones", zonesOK)
	}

	mark("6 deploy healthcheck")

	// 7. Stale credentials in c again: c unhealthy (503, ResponseCodeMismatch), no traffic
	// to c, everything personalized from a and b (fail closed). The aws target for 7 and 8,
	// except where the local lab's request counts are read.
	via = "aws"
	mustLabctl(t, state, "fault", "stale-credentials", "--az", "c")
	eventually(t, "checkpoint 7: zone c unhealthy", func() (bool, string) {
		tg := zoneTarget(status(t, state), "c")
		ok := tg.State == "unhealthy" && tg.Reason == "Target.ResponseCodeMismatch" && strings.Contains(tg.Description, "[503]")
		return ok, fmt.Sprintf("%+v", tg)
	})
	if out := mustLabctl(t, state, "status"); !strings.Contains(out, "Target.ResponseCodeMismatch (Health checks failed with these codes: [503])") {
		t.Fatalf("checkpoint 7: status table:\n%s", out)
	}
	via = ""
	cBefore := zoneTarget(status(t, state), "c")
	via = "aws"
	s = sample(t, state, 12)
	if ok, why := s.allZones(true, "a", "b"); !ok {
		t.Fatalf("checkpoint 7: %s", why)
	}
	via = ""
	cAfter := zoneTarget(status(t, state), "c")
	via = "aws"
	if cAfter.Requests != cBefore.Requests {
		t.Fatalf("checkpoint 7: unhealthy c got %d requests", cAfter.Requests-cBefore.Requests)
	}
	for _, l := range []string{"a", "b"} {
		if tg := zoneTarget(status(t, state), l); tg.State != "healthy" {
			t.Fatalf("checkpoint 7: zone %s %s", l, tg.State)
		}
	}

	mark("7 c unhealthy, fail closed")

	// 8. Repair c: a new instance (new id, normal role) in c, healthy; personalized from all three.
	mustLabctl(t, state, "repair", "--az", "c")
	st = status(t, state)
	newC := zoneTarget(st, "c")
	if newC.InstanceID == cBefore.InstanceID || newC.State != "healthy" || newC.Role != lab.RoleName(lab.DefaultNamingPrefix) {
		t.Fatalf("checkpoint 8: zone c after repair: %+v (old %s)", newC, cBefore.InstanceID)
	}
	for _, tg := range st.Targets {
		if tg.InstanceID == cBefore.InstanceID {
			t.Fatalf("checkpoint 8: terminated instance still registered: %+v", tg)
		}
	}
	if ok, why := sample(t, state, 12).allZones(true, "a", "b", "c"); !ok {
		t.Fatalf("checkpoint 8: %s", why)
	}

	mark("8 repair c")
	via = ""

	// 9. Dependency off: all three unhealthy with 503, yet the load balancer fails open and
	// every answer is a static 200 from every zone.
	mustLabctl(t, state, "dependency", "off")
	eventually(t, "checkpoint 9: all targets unhealthy", func() (bool, string) {
		return allCurrent(status(t, state), func(tg labops.Target) bool {
			return tg.State == "unhealthy" && tg.Reason == "Target.ResponseCodeMismatch" && strings.Contains(tg.Description, "[503]")
		})
	})
	s = sample(t, state, 12)
	if ok, why := s.allZones(false, "a", "b", "c"); !ok {
		t.Fatalf("checkpoint 9: %s", why)
	}
	if s.counters(t).FailOpen != 12 || s.counters(t).ELB5xx != 0 || s.counters(t).Target5xx != 0 {
		t.Fatalf("checkpoint 9: counters during the sample %+v", s.Counters)
	}

	mark("9 all unhealthy, fail open")

	// 10. Dependency on: personalized again, and the targets recover.
	via = "aws"
	mustLabctl(t, state, "dependency", "on")
	eventually(t, "checkpoint 10: personalized and healthy again", func() (bool, string) {
		if ok, why := sample(t, state, 12).allZones(true, "a", "b", "c"); !ok {
			return false, why
		}
		return allCurrent(status(t, state), func(tg labops.Target) bool { return tg.State == "healthy" })
	})

	mark("10 personalized again")
	interruptRepairOnAWS(t, state)
	mark("repair --target aws, Ctrl-C")
	deployOnAWSStreamsTargetHealth(t, state)
	via = ""
	mark("deploy --target aws (stand-in npx)")

	// `local down` stops the lab: every web-server process ends and the state file goes.
	mustLabctl(t, state, "local", "down")
	select {
	case code := <-upDone:
		stopped = true
		if code != 0 {
			t.Errorf("local up exited %d after local down", code)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("local up still running 60s after local down")
	}
	mark("local down")
	if _, err := os.Stat(state); !os.IsNotExist(err) {
		t.Errorf("state file left behind: %v", err)
	}
	if pids := processesRunning(bin); len(pids) > 0 {
		t.Errorf("web-server processes left running: %v", pids)
	}
	if _, err := labctl(t, state, "status"); err == nil || !strings.Contains(err.Error(), "no lab running") {
		t.Errorf("status after stop: %v, want no lab running", err)
	}
}

// processesRunning lists the pids whose command line starts with exe.
func processesRunning(exe string) []string {
	var pids []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.HasPrefix(string(b), exe+"\x00") {
			pids = append(pids, e.Name())
		}
	}
	return pids
}
