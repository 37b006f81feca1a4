package stacks

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"healthchecklab/internal/lab"
)

// The instance bootstrap is tested as the instances receive it: the user data rendered from the
// synthesized template, checked by bash and shellcheck, then run in a sandbox where aws,
// cfn-signal, curl, systemctl, date and sleep are stubs on PATH and the files land in a
// temporary root. The stubs' clock only moves when the script sleeps, so the bounds are exact.

// bootStubs are the stand-ins of the commands the bootstrap calls. Each appends its
// invocation to $STUB_DIR/log.
var bootStubs = map[string]string{
	"aws": `echo "aws $*" >>"$STUB_DIR/log"
case "$1 $2" in
"s3 cp")
  if [ -n "${STUB_S3_FAIL:-}" ]; then echo "fatal error: An error occurred (403) when calling the HeadObject operation: Forbidden" >&2; exit 1; fi
  echo binary >"$4" ;;
"elbv2 describe-target-health")
  n=$(($(cat "$STUB_DIR/health.n" 2>/dev/null || echo 0) + 1)); echo "$n" >"$STUB_DIR/health.n"
  total=$(wc -l <"$STUB_DIR/health")
  [ "$n" -le "$total" ] || n=$total
  line=$(sed -n "${n}p" "$STUB_DIR/health")
  if [ "$line" = error ]; then echo "An error occurred (Throttling) when calling the DescribeTargetHealth operation: Rate exceeded" >&2; exit 255; fi
  printf '%s\n' "$line" ;;
*) echo "unexpected aws call: $*" >&2; exit 2 ;;
esac`,
	"cfn-signal": `echo "cfn-signal $*" >>"$STUB_DIR/log"
if [ "$2" = 0 ]; then
  n=$(($(cat "$STUB_DIR/signal.n" 2>/dev/null || echo 0) + 1)); echo "$n" >"$STUB_DIR/signal.n"
  if [ "${STUB_SIGNAL_FAILS:-0}" = all ] || [ "$n" -le "${STUB_SIGNAL_FAILS:-0}" ]; then echo "ValidationError: Signal not expected" >&2; exit 1; fi
fi`,
	"curl": `echo "curl $*" >>"$STUB_DIR/log"
case "$*" in
*/latest/api/token*) echo token ;;
*/meta-data/instance-id*) echo i-0abc ;;
*` + lab.LivenessPath + `*)
  n=$(($(cat "$STUB_DIR/live.n" 2>/dev/null || echo 0) + 1)); echo "$n" >"$STUB_DIR/live.n"
  [ "$STUB_LIVE_AFTER" != never ] && [ "$n" -ge "$STUB_LIVE_AFTER" ] || exit 7 ;;
*) exit 22 ;;
esac`,
	"systemctl": `echo "systemctl $*" >>"$STUB_DIR/log"`,
	"date":      `if [ "$1" = +%s ]; then cat "$STUB_DIR/clock"; else exec /bin/date "$@"; fi`,
	"sleep":     `echo "sleep $1" >>"$STUB_DIR/log"; echo $(($(cat "$STUB_DIR/clock") + $1)) >"$STUB_DIR/clock"`,
}

const stubClockStart = 1_000_000

// bootRun is one sandboxed run of the bootstrap.
type bootRun struct {
	exitCode int
	log      []string
	output   string
	root     string
	slept    int // seconds the script slept (the stub clock's advance)
}

// signals returns the exit codes the run passed to cfn-signal, in order.
func (r bootRun) signals() []string {
	var out []string
	for _, l := range r.log {
		if f := strings.Fields(l); len(f) > 2 && f[0] == "cfn-signal" && f[1] == "--exit-code" {
			out = append(out, f[2])
		}
	}
	return out
}

// count returns how many logged calls start with prefix.
func (r bootRun) count(prefix string) int {
	n := 0
	for _, l := range r.log {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

type bootScenario struct {
	health      []string // target-health answers in order ("state\treason" or "error"); the last repeats
	liveAfter   string   // the liveness call that first succeeds ("1" = at once), or "never"
	signalFails string   // how many success signals fail first, or "all"
	s3Fails     bool
}

func runBootstrap(t *testing.T, script string, sc bootScenario) bootRun {
	t.Helper()
	dir := t.TempDir()
	stubs := filepath.Join(dir, "bin")
	root := filepath.Join(dir, "root")
	for _, d := range []string{stubs, filepath.Join(root, "usr/local/bin")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, body := range bootStubs {
		if err := os.WriteFile(filepath.Join(stubs, name), []byte("#!/bin/bash\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		"health":    strings.Join(sc.health, "\n") + "\n",
		"clock":     strconv.Itoa(stubClockStart),
		"script.sh": script,
		"log":       "",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("bash", filepath.Join(dir, "script.sh"))
	cmd.Env = []string{
		"PATH=" + stubs + ":/usr/bin:/bin",
		"HOME=" + dir,
		"STUB_DIR=" + dir,
		"HEALTHCHECKLAB_ROOT=" + root,
		"STUB_LIVE_AFTER=" + sc.liveAfter,
		"STUB_SIGNAL_FAILS=" + sc.signalFails,
	}
	if sc.s3Fails {
		cmd.Env = append(cmd.Env, "STUB_S3_FAIL=1")
	}
	out, err := cmd.CombinedOutput()
	r := bootRun{output: string(out), root: root}
	if ee, ok := err.(*exec.ExitError); ok {
		r.exitCode = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	logData, _ := os.ReadFile(filepath.Join(dir, "log"))
	r.log = strings.Split(strings.TrimSpace(string(logData)), "\n")
	clock, _ := os.ReadFile(filepath.Join(dir, "clock"))
	now, _ := strconv.Atoi(strings.TrimSpace(string(clock)))
	r.slept = now - stubClockStart
	return r
}

func TestBootstrapScript(t *testing.T) {
	script := userData(t, synthLab(t, nil).service)
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not installed")
	}

	t.Run("bash parses it", func(t *testing.T) {
		cmd := exec.Command("bash", "-n")
		cmd.Stdin = strings.NewReader(script)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("bash -n: %v\n%s", err, out)
		}
	})
	t.Run("shellcheck", func(t *testing.T) {
		if _, err := exec.LookPath("shellcheck"); err != nil {
			t.Skip("shellcheck not installed (apt-get install shellcheck); the sandboxed runs below still cover the script")
		}
		// The template's Fn::Sub placeholders resolve at deploy time: the instance never sees them.
		resolved := strings.NewReplacer("${AWS::AccountId}", "123456789012", "${AWS::Region}", "us-east-1").Replace(script)
		cmd := exec.Command("shellcheck", "--shell=bash", "--severity=style", "-")
		cmd.Stdin = strings.NewReader(resolved)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("shellcheck: %v\n%s", err, out)
		}
	})

	healthy := "healthy\tNone"
	readyChecks := ReadyTimeout/BootPoll + 1 // polls from the first to the one at the bound
	tests := []struct {
		name     string
		sc       bootScenario
		wantExit int // 0, or any non-zero when 1
		want     []string
		check    func(t *testing.T, r bootRun)
	}{
		{
			name: "signals success once the target is healthy",
			sc: bootScenario{liveAfter: "3", health: []string{
				"unused\tTarget.NotRegistered", "initial\tElb.InitialHealthChecking", "unhealthy\tTarget.FailedHealthChecks", healthy}},
			want: []string{"0"},
			check: func(t *testing.T, r bootRun) {
				if n := r.count("aws elbv2 describe-target-health"); n != 4 {
					t.Errorf("%d target-health polls, want 4 (the signal must wait for healthy)", n)
				}
				if i, j := indexOf(r.log, "curl -sf --max-time 2 -o /dev/null"), indexOf(r.log, "aws elbv2"); i < 0 || j < i {
					t.Errorf("target health polled before the server was live:\n%s", strings.Join(r.log, "\n"))
				}
				if !strings.Contains(r.output, "target i-0abc: healthy") {
					t.Errorf("no progress line for the target:\n%s", r.output)
				}
			},
		},
		{
			name: "503 from the deep check counts as in service",
			sc:   bootScenario{liveAfter: "1", health: []string{"initial\tElb.InitialHealthChecking", "unhealthy\tTarget.ResponseCodeMismatch"}},
			want: []string{"0"},
		},
		{
			name: "a failed target-health call is not ready, the next poll decides",
			sc:   bootScenario{liveAfter: "1", health: []string{"error", healthy}},
			want: []string{"0"},
		},
		{
			name:     "gives up at the bound and reports failure once",
			sc:       bootScenario{liveAfter: "1", health: []string{"unhealthy\tTarget.Timeout"}},
			wantExit: 1,
			want:     []string{"1"},
			check: func(t *testing.T, r bootRun) {
				if r.slept < ReadyTimeout || r.slept >= ReadyTimeout+BootPoll {
					t.Errorf("gave up after %d s, want within [%d, %d)", r.slept, ReadyTimeout, ReadyTimeout+BootPoll)
				}
				if n := r.count("aws elbv2 describe-target-health"); n != readyChecks {
					t.Errorf("%d polls, want %d", n, readyChecks)
				}
				if !strings.Contains(r.output, "did not route to i-0abc within") {
					t.Errorf("no reason given:\n%s", r.output)
				}
			},
		},
		{
			name: "the success signal is retried",
			sc:   bootScenario{liveAfter: "1", health: []string{healthy}, signalFails: "2"},
			want: []string{"0", "0", "0"},
		},
		{
			name: "a signal that keeps failing after the server is live is no failure",
			sc:   bootScenario{liveAfter: "1", health: []string{healthy}, signalFails: "all"},
			want: repeat("0", SignalAttempts),
			check: func(t *testing.T, r bootRun) {
				if want := BootPoll * SignalAttempts * (SignalAttempts - 1) / 2; r.slept != want {
					t.Errorf("slept %d s between signal attempts, want %d", r.slept, want)
				}
			},
		},
		{
			name:     "a set-up error sends exactly one failure",
			sc:       bootScenario{liveAfter: "1", health: []string{healthy}, s3Fails: true},
			wantExit: 1,
			want:     []string{"1"},
			check: func(t *testing.T, r bootRun) {
				if r.count("systemctl") != 0 || r.count("aws elbv2") != 0 {
					t.Errorf("went on after the failed download:\n%s", strings.Join(r.log, "\n"))
				}
			},
		},
		{
			name:     "a server that never answers is a set-up error",
			sc:       bootScenario{liveAfter: "never", health: []string{healthy}},
			wantExit: 1,
			want:     []string{"1"},
			check: func(t *testing.T, r bootRun) {
				if r.slept < LivenessTimeout || r.slept >= LivenessTimeout+BootPoll {
					t.Errorf("gave up after %d s, want within [%d, %d)", r.slept, LivenessTimeout, LivenessTimeout+BootPoll)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runBootstrap(t, script, tt.sc)
			if (r.exitCode != 0) != (tt.wantExit != 0) {
				t.Errorf("exit status %d, want %s", r.exitCode, map[bool]string{true: "non-zero", false: "0"}[tt.wantExit != 0])
			}
			if got := r.signals(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("cfn-signal exit codes %v, want %v\nlog:\n%s\noutput:\n%s", got, tt.want, strings.Join(r.log, "\n"), r.output)
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}

	t.Run("installs the server, its settings and the unit", func(t *testing.T) {
		r := runBootstrap(t, script, bootScenario{liveAfter: "1", health: []string{healthy}})
		env, err := os.ReadFile(filepath.Join(r.root, "etc/healthchecklab/webserver.env"))
		if err != nil || !strings.Contains(string(env), "SERVER_CODE=basic\n") {
			t.Errorf("webserver.env: %v\n%s", err, env)
		}
		unit, err := os.ReadFile(filepath.Join(r.root, "etc/systemd/system/healthchecklab-webserver.service"))
		if err != nil || string(unit) != strings.TrimRight(unitText(t), "\n")+"\n" {
			t.Errorf("installed unit differs from assets/webserver.service: %v", err)
		}
		if fi, err := os.Stat(filepath.Join(r.root, "usr/local/bin", WebServerBinary)); err != nil || fi.Mode()&0o111 == 0 {
			t.Errorf("server binary not installed executable: %v", err)
		}
		if indexOf(r.log, "systemctl enable --now healthchecklab-webserver.service") < 0 {
			t.Errorf("service not enabled:\n%s", strings.Join(r.log, "\n"))
		}
		verifyUnit(t, unit)
	})
}

// verifyUnit runs systemd-analyze verify on the unit, with the server's path pointed at an
// existing program (the binary exists only on an instance), and expects no complaint at all.
func verifyUnit(t *testing.T, unit []byte) {
	t.Helper()
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Log("systemd-analyze not installed: unit not verified")
		return
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "healthchecklab-webserver.service")
	text := strings.ReplaceAll(string(unit), "/usr/local/bin/"+WebServerBinary, "/bin/true")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("systemd-analyze", "verify", path).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

func unitText(t *testing.T) string {
	data, err := os.ReadFile("../assets/webserver.service")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

var unitSection = regexp.MustCompile(`(?m)^\[(\w+)\]$`)

func TestWebServerUnitNeverGivesUp(t *testing.T) {
	text := unitText(t)
	sections := map[string]string{}
	idx := unitSection.FindAllStringSubmatchIndex(text, -1)
	for i, m := range idx {
		end := len(text)
		if i+1 < len(idx) {
			end = idx[i+1][0]
		}
		sections[text[m[2]:m[3]]] = text[m[1]:end]
	}
	for _, want := range []struct{ section, line string }{
		{"Unit", "StartLimitIntervalSec=0"},
		{"Service", "Restart=always"},
	} {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(want.line) + `$`).MatchString(sections[want.section]) {
			t.Errorf("[%s] lacks %s", want.section, want.line)
		}
	}
}

// TestBootstrapFitsTheSignalTimeout checks the bootstrap's bounds against CloudFormation's
// wait: launch and boot (allowed 3 minutes), the liveness wait, the readiness wait and the
// signal's back-off must end before SignalTimeout, the readiness bound must leave room for a
// fresh target to pass its health checks, and instances launch only once the load balancer
// listens (so its health checks run while they wait).
func TestBootstrapFitsTheSignalTimeout(t *testing.T) {
	const boot = 180
	hc := lab.TargetGroupHealthCheck
	backoff := BootPoll * SignalAttempts * (SignalAttempts - 1) / 2
	if total := boot + LivenessTimeout + ReadyTimeout + backoff; total > SignalTimeout {
		t.Errorf("worst case %d s exceeds the %d s signal timeout", total, SignalTimeout)
	}
	if pass := (hc.HealthyThreshold + 1) * int(hc.Interval.Seconds()); ReadyTimeout < 2*pass {
		t.Errorf("readiness bound %d s leaves too little room for a target to pass %d checks %s apart", ReadyTimeout, hc.HealthyThreshold, hc.Interval)
	}
	tmpl := synthLab(t, nil).service
	_, asg := only(t, tmpl, "AWS::AutoScaling::AutoScalingGroup")
	listenerID, _ := only(t, tmpl, "AWS::ElasticLoadBalancingV2::Listener")
	found := false
	for _, d := range asList(asg["DependsOn"]) {
		found = found || d == listenerID
	}
	if !found {
		t.Errorf("the group depends on %v, not on the listener: a first deploy's instances would wait for a load balancer still provisioning", asg["DependsOn"])
	}
	want := fmt.Sprintf("PT%dM", SignalTimeout/60)
	for _, got := range []any{at(asg, "CreationPolicy", "ResourceSignal", "Timeout"), at(asg, "UpdatePolicy", "AutoScalingRollingUpdate", "PauseTime")} {
		if got != want {
			t.Errorf("signal wait %v, want %s", got, want)
		}
	}
}

func indexOf(lines []string, prefix string) int {
	for i, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return i
		}
	}
	return -1
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}
