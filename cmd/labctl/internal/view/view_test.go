package view

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"healthchecklab/internal/lab"
	"healthchecklab/internal/labclient"
	"healthchecklab/internal/targethealth"
)

// fits fails the test for any line wider than Width, naming it.
func fits(t *testing.T, what, out string) {
	t.Helper()
	for i, l := range strings.Split(out, "\n") {
		if n := runes(l); n > Width {
			t.Errorf("%s: line %d is %d columns:\n%s\nwhole output:\n%s", what, i+1, n, l, out)
		}
	}
}

var now = time.Date(2026, 11, 21, 7, 0, 0, 0, time.UTC)

// busyStatus is a lab in the worst shape for a narrow screen: a long site name, a rollout
// in flight (two extra draining and initial targets), the longest ServerCode, ALB's
// longest reasons and a noDDB role.
func busyStatus() Status {
	long := "Health checks failed with these codes: [503]; the target answered slowly and then with an error page that is long"
	return Status{
		ServerCode:  "errorhandling",
		Parameter:   "false",
		HealthCheck: lab.TargetGroupHealthCheck,
		ZoneNames:   map[string]string{"a": "ap-southeast-2a", "b": "ap-southeast-2b", "c": "ap-southeast-2c"},
		Operation: &labclient.Operation{Kind: "deploy", ServerCode: "healthcheck", Started: now.Add(-95 * time.Second),
			Last: "zone b: new instance i-0fedcba9876543210 registered, waiting for 2 passing health checks before the old one drains"},
		Counters:       &labclient.LBCounters{Requests: 123456789, ELB5xx: 99999 + 12 + 3, ELB502: 99999, ELB503: 12, ELB504: 3, Target5xx: 0, FailOpen: 55555},
		AsgHealthCheck: "ELB", Grace: 5 * time.Minute, Replaced: map[string]int{"a": 12, "b": 101, "c": 3},
		Targets: []Target{
			{Letter: "a", InstanceID: "i-0123456789abcdef0", State: "unhealthy", Reason: "Target.ResponseCodeMismatch", Description: long,
				Role: lab.RoleName("MyVeryLongNamingPrefix"), ServerCode: "errorhandling", Current: true, Requests: 1234567,
				Checks:    []targethealth.Check{{OK: true}, {OK: true}, {OK: false, Code: 503}, {OK: false, Code: 503}, {OK: false, Code: 503}, {OK: false, Code: 503}},
				NextCheck: at(now.Add(12 * time.Second))},
			{Letter: "b", InstanceID: "i-0aaaaaaaaaaaaaaa1", State: "draining", Reason: "Target.DeregistrationInProgress",
				Description: "Target deregistration is in progress", Role: lab.RoleName("WebApp1"), ServerCode: "errorhandling", Current: true, Requests: 10},
			{Letter: "b", InstanceID: "i-0fedcba9876543210", State: "initial", Reason: "Elb.InitialHealthChecking",
				Description: "Initial health checks in progress", Role: lab.RoleName("WebApp1"), ServerCode: "healthcheck", Current: true,
				Checks: []targethealth.Check{{OK: true}}, NextCheck: at(now.Add(3 * time.Second))},
			{Letter: "c", InstanceID: "i-0cccccccccccccccc", State: "unhealthy", Reason: "Target.SomeFutureReasonCodeThatAWSMightAddOneDay",
				Description: long, Role: lab.NoDDBRoleName("WebApp1"), ServerCode: "errorhandling", Current: true, Requests: 0},
		},
	}
}

func TestViewsFitEightyColumns(t *testing.T) {
	st := busyStatus()
	quiet := Status{ServerCode: "basic", Parameter: "true", HealthCheck: lab.TargetGroupHealthCheck,
		Targets: []Target{{Letter: "a", InstanceID: "i-0123456789abcdef0", State: "healthy", Role: lab.RoleName("WebApp1"), ServerCode: "basic", Requests: -1}}}
	sm := Sample{
		URL: "http://HealthCheckLab-LoadB-1A2B3C4D5E6F-1234567890.ap-southeast-2.elb.amazonaws.com/with/a/long/path", Requests: 10000, Codes: map[int]int{200: 4000, 502: 3000, 503: 2000, 504: 1000},
		Zones: []ZoneSample{
			{Letter: "a", Instances: []string{"i-0123456789abcdef0", "i-0fedcba9876543210"}, Requests: 4000,
				Codes: map[int]int{200: 1000, 502: 1000, 503: 1000, 504: 1000}, Personalized: 500, Static: 500,
				Text:       Recommendation("Valued Customer", "I Love Lucy", false),
				Diagnostic: "AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/WebApp1-EC2-noDDB-Role-HealthCheckLab/i-0123456789abcdef0 is not authorized to perform: dynamodb:GetItem on resource: arn:aws:dynamodb:ap-southeast-2:123456789012:table/RecommendationService because no identity-based policy allows the dynamodb:GetItem action"},
			{Letter: "b", Requests: 0, Codes: map[int]int{}},
			{Letter: "?", Requests: 6000, Codes: map[int]int{502: 6000}},
		},
		Counters: st.Counters,
	}
	cases := map[string]func(*bytes.Buffer){
		"status":       func(b *bytes.Buffer) { WriteStatus(b, st, Style{}) },
		"status color": func(b *bytes.Buffer) { WriteStatus(b, st, Style{Color: true}) },
		"watch":        func(b *bytes.Buffer) { WriteWatch(b, st, now, Style{}) },
		"quiet watch":  func(b *bytes.Buffer) { WriteWatch(b, quiet, now, Style{}) },
		"sample":       func(b *bytes.Buffer) { WriteSample(b, sm, Style{}) },
	}
	for name, draw := range cases {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			draw(&b)
			out := stripANSI(b.String())
			fits(t, name, out)
			if testing.Verbose() {
				t.Logf("\n%s", out)
			}
		})
	}
}

// TestViewsSayWhatMatters checks that shortening keeps what the lab teaches: ALB's exact
// reason in the notes, the noDDB role, the ServerCode being rolled out, the recent checks
// and the next check, zones without traffic.
func TestViewsSayWhatMatters(t *testing.T) {
	st := busyStatus()
	st.Targets[0].Description = "Health checks failed with these codes: [503]"
	var status, watch, sample bytes.Buffer
	WriteStatus(&status, st, Style{})
	WriteWatch(&watch, st, now, Style{})
	WriteSample(&sample, Sample{URL: "http://127.0.0.1:8080", Requests: 2, Codes: map[int]int{200: 2},
		Zones: []ZoneSample{{Letter: "a", Requests: 2, Codes: map[int]int{200: 2}, Personalized: 2,
			Text: Recommendation("Sarah", "M*A*S*H", true)}, {Letter: "b", Codes: map[int]int{}}, {Letter: "c", Codes: map[int]int{}}}}, Style{})
	tests := []struct {
		name, out string
		want      []string
	}{
		{"status", status.String(), []string{
			"a     Target.ResponseCodeMismatch: Health checks failed with these codes: [503]",
			"HTTP 503", "i-…9abcdef0", "noDDB", "role WebApp1-EC2-noDDB-Role-HealthCheckLab",
			"ServerCode errorhandling → healthcheck (1 of 3 zones)", "rolling out ServerCode healthcheck", "1234567",
			"target 5xx 0", "check /healthcheck every 15s, timeout 3s; healthy after 2, unhealthy after 3",
			"zones a ap-southeast-2a · b ap-southeast-2b · c ap-southeast-2c",
			"Auto Scaling health check ELB, grace 5m00s · replaced after failed checks: 116", "(a 12, b 101, c 3)",
		}},
		{"watch", watch.String(), []string{"✓✗✗✗✗", "12s", "for 1m35s", "first checks", "replaced after failed checks: 116"}},
		{"sample", sample.String(), []string{
			"Sarah, your recommendation is: M*A*S*H", "2 requests to http://127.0.0.1:8080: 200×2",
		}},
	}
	for _, tt := range tests {
		for _, w := range tt.want {
			if !strings.Contains(tt.out, w) {
				t.Errorf("%s: missing %q in:\n%s", tt.name, w, tt.out)
			}
		}
	}
	// zones b and c got nothing and still have rows with 0.
	for _, zone := range []string{"b", "c"} {
		found := false
		for _, l := range strings.Split(sample.String(), "\n") {
			if f := strings.Fields(l); len(f) == 6 && f[0] == zone && f[2] == "0" && f[4] == "0" && f[5] == "0" {
				found = true
			}
		}
		if !found {
			t.Errorf("sample: no row with 0 for zone %s:\n%s", zone, sample.String())
		}
	}
}

func TestShortForms(t *testing.T) {
	tests := []struct{ got, want string }{
		{ShortID("i-0123456789abcdef0"), "i-…9abcdef0"},
		{ShortID("i-12345678"), "i-12345678"},
		{ShortID("10.0.1.23"), "10.0.1.23"},
		{ShortRole(lab.RoleName("WebApp1")), "normal"},
		{ShortRole(lab.NoDDBRoleName("Other")), "noDDB"},
		{ShortRole(""), "-"},
		{ShortRole("SomeCompletelyDifferentRoleName"), "SomeComplet…"},
		{ShortReason("Target.ResponseCodeMismatch", "Health checks failed with these codes: [503]"), "HTTP 503"},
		{ShortReason("Target.ResponseCodeMismatch", "Health checks failed with these codes: [500,503]"), "HTTP 500,503"},
		{ShortReason("Target.Timeout", "Request timed out"), "timed out"},
		{ShortReason("Elb.Brand.New", ""), "Brand.New"},
		{Fit("abcdef", 4), "abc…"},
		{Fit("abc", 4), "abc"},
		{Codes(map[int]int{502: 2, 200: 8}), "200×8 502×2"},
		{Codes(nil), "-"},
		{seconds(1500 * time.Millisecond), "1.5s"},
		{seconds(38 * time.Second), "38s"},
		{seconds(125 * time.Second), "2m05s"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestColour(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	pipeR, pipeW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pipeR.Close()
	defer pipeW.Close()
	// A pseudo-terminal's master side is a terminal as far as isatty is concerned.
	pty, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err == nil {
		defer pty.Close()
	}
	tests := []struct {
		name string
		w    any
		env  func(string) string
		want bool
	}{
		{"buffer", &bytes.Buffer{}, env(), false},
		{"pipe", pipeW, env(), false},
		{"terminal", pty, env("TERM", "xterm-256color"), true},
		{"terminal, NO_COLOR", pty, env("NO_COLOR", "1"), false},
		{"terminal, empty NO_COLOR", pty, env("NO_COLOR", ""), true},
		{"terminal, TERM=dumb", pty, env("TERM", "dumb"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, isFile := tt.w.(*os.File)
			if isFile && f == nil {
				t.Skip("no /dev/ptmx here")
			}
			var w interface{ Write([]byte) (int, error) }
			if isFile {
				w = f
			} else {
				w = tt.w.(*bytes.Buffer)
			}
			if got := StyleFor(w, tt.env).Color; got != tt.want {
				t.Fatalf("colour %v, want %v", got, tt.want)
			}
		})
	}
	// With colour, states are painted; without, the output has no escape code at all.
	var plain, painted bytes.Buffer
	WriteStatus(&plain, busyStatus(), Style{})
	WriteStatus(&painted, busyStatus(), Style{Color: true})
	if strings.Contains(plain.String(), "\033[") {
		t.Errorf("escape codes without colour:\n%q", plain.String())
	}
	for _, want := range []string{"\033[31munhealthy", "\033[33mdraining", "\033[36minitial"} {
		if !strings.Contains(painted.String(), want) {
			t.Errorf("coloured status lacks %q", want)
		}
	}
	if stripANSI(painted.String()) != plain.String() {
		t.Errorf("colour changed the layout:\n%s\nvs\n%s", stripANSI(painted.String()), plain.String())
	}
}

func stripANSI(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\033' {
			for i < len(s) && s[i] != 'm' {
				i++
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// TestScreensEndTheirLastLine: every screen ends with a newline, whatever its last part
// (counters, notes, the table itself), so the shell's prompt or the next output never joins
// its last line.
func TestScreensEndTheirLastLine(t *testing.T) {
	quiet := Status{ServerCode: "basic", Parameter: "true", HealthCheck: lab.TargetGroupHealthCheck,
		Targets: []Target{{Letter: "a", InstanceID: "i-0123456789abcdef0", State: "healthy", Role: lab.RoleName("WebApp1"), ServerCode: "basic", Requests: -1}}}
	noted := quiet
	noted.Targets = []Target{{Letter: "c", InstanceID: "i-0c", State: "unhealthy", Reason: "Target.ResponseCodeMismatch",
		Description: "Health checks failed with these codes: [503]", Role: lab.NoDDBRoleName("WebApp1"), ServerCode: "basic", Requests: -1}}
	empty := Status{ServerCode: "basic", Parameter: "true", HealthCheck: lab.TargetGroupHealthCheck}
	for name, st := range map[string]Status{"busy": busyStatus(), "quiet": quiet, "notes last": noted, "no targets": empty} {
		for _, color := range []bool{false, true} {
			var status, watch bytes.Buffer
			WriteStatus(&status, st, Style{Color: color})
			WriteWatch(&watch, st, now, Style{Color: color})
			for what, out := range map[string]string{"status": status.String(), "watch": watch.String()} {
				if !strings.HasSuffix(out, "\n") {
					t.Errorf("%s %s (colour %v) ends without a newline: %q", what, name, color, out[max(0, len(out)-40):])
				}
			}
		}
	}
	var sample bytes.Buffer
	WriteSample(&sample, Sample{URL: "http://x", Requests: 1, Codes: map[int]int{200: 1}}, Style{})
	if !strings.HasSuffix(sample.String(), "\n") {
		t.Errorf("sample ends without a newline: %q", sample.String())
	}
}

// at is t as a target's NextCheck.
func at(t time.Time) *time.Time { return &t }
