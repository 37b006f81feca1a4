package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"healthchecklab/cmd/labctl/internal/labops"
	"healthchecklab/internal/labclient"
)

// TestErrors checks the one-line errors and non-zero exit of bad command lines, with no lab
// running and no AWS configuration.
func TestErrors(t *testing.T) {
	isolateAWS(t)
	state := filepath.Join(t.TempDir(), "none.json")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"status"}, "no lab running here and no target chosen: start one with `labctl local up`, or drive a deployed stack with `--target aws`"},
		{[]string{"sample"}, "no lab running"},
		{[]string{"watch"}, "no lab running"},
		{[]string{"dependency", "on"}, "no lab running"},
		{[]string{"local", "down"}, "no lab running"},
		{[]string{"local", "env"}, "no lab running"},
		{[]string{"local", "url"}, "no lab running"},
		{[]string{"local", "up", "--lab-id", "two words"}, `bad --lab-id "two words": LabId "two words" must be 1-16 lowercase letters, digits and inner hyphens, e.g. team7`},
		{[]string{"local", "up", "--lab-id", "-x"}, `bad --lab-id "-x"`},
		{[]string{"local", "up", "--lab-id", "Team7"}, `bad --lab-id "Team7"`},
		{[]string{"repair", "--az", "c"}, "no lab running"},
		{[]string{"dependency", "maybe"}, `dependency takes on or off: labctl dependency on|off (not "maybe")`},
		{[]string{"dependency"}, "dependency takes on or off: labctl dependency on|off"},
		{[]string{"dependency", "on", "off"}, `dependency takes on or off: labctl dependency on|off (not "on off")`},
		{[]string{"fault", "stale-credentials", "--az", "d"}, "no lab running"},
		{[]string{"--target", "local", "status"}, "no lab running (start one with `labctl local up`)"},
		{[]string{"--target", "moon", "status"}, `unknown target "moon": use --target aws or --target local`},
		{[]string{"--target", "aws", "status"}, "no AWS region configured: set AWS_REGION"},
		{[]string{"repair", "--az", "c", "--timeout", "0s"}, "bad --timeout 0s"},
		{[]string{"fault", "meteor", "--az", "a"}, `unknown fault "meteor"`},
		{[]string{"fault", "stale-credentials"}, "fault stale-credentials needs the zone: labctl fault stale-credentials --az c (a, b or c)"},
		{[]string{"fault", "instance-loss", "--az", "c"}, "fault instance-loss runs only as the stack's AWS FIS experiment: labctl --target aws fault instance-loss --via fis"},
		{[]string{"fault", "zone-power", "--az", "c"}, "no lab running"},
		{[]string{"tour", "--chapters", "13"}, "bad --chapters 13: the chapters past the ten steps are 11 to 12"},
		{[]string{"tour", "--chapters", "11", "--from", "3"}, "give one of the two"},
		{[]string{"tour", "--chapters", "11,12"}, "no lab running"},
		{[]string{"deploy", "--server-code", "healthcheck", "--asg-health-check", "TCP"}, `invalid AsgHealthCheck "TCP": must be one of EC2, ELB`},
		{[]string{"fault", "zone-power"}, "fault zone-power needs the zone: labctl fault zone-power --az c --duration 5m0s"},
		{[]string{"fault", "zone-power", "--az", "d"}, `unknown zone "d"`},
		{[]string{"fault", "zone-power", "--az", "c", "--duration", "0s"}, "bad --duration 0s"},
		{[]string{"fault", "zone-power", "--via", "fis", "--az", "a"}, "the FIS experiments target zone c"},
		{[]string{"fault", "zone-power", "--via", "fis", "--az", "c"}, "no lab running"},
		{[]string{"fault", "meteor", "--via", "fis"}, `unknown fault "meteor" for --via fis`},
		{[]string{"fault", "instance-loss", "--via", "fis", "--az", "b"}, "the FIS experiments target zone c"},
		{[]string{"fault", "dependency-loss", "--via", "carrier-pigeon"}, `unknown --via "carrier-pigeon"`},
		{[]string{"fault", "dependency-loss", "--via", "fis", "--timeout", "0s"}, "bad --timeout 0s"},
		{[]string{"fault", "dependency-outage", "--via", "fis"}, "no lab running"},
		{[]string{"fault", "stale-credentials", "c"}, "fault takes the zone as --az, not an argument: labctl fault stale-credentials --az c"},
		{[]string{"fault"}, "which fault? labctl fault stale-credentials --az c, or labctl fault NAME --via fis"},
		{[]string{"repair", "c"}, "repair takes --az, not an argument: labctl repair --az c"},
		{[]string{"repair"}, "which zone? labctl repair --az a, b or c"},
		{[]string{"deploy", "--server-code", "deep"}, "must be one of basic, errorhandling, healthcheck"},
		{[]string{"deploy"}, "which ServerCode? labctl deploy --server-code basic, errorhandling or healthcheck"},
		{[]string{"deploy", "healthcheck"}, "deploy takes --server-code, not an argument: labctl deploy --server-code healthcheck"},
		{[]string{"deploy", "--server-code", "basic", "extra"}, `deploy takes no argument besides --server-code: remove "extra"`},
		{[]string{"repair", "--az", "c", "now"}, `repair takes no argument besides --az: remove "now"`},
		{[]string{"reset", "healthcheck"}, "reset takes --server-code, not an argument: labctl reset --server-code healthcheck"},
		{[]string{"reset", "--server-code", "deep"}, `invalid ServerCode "deep": must be one of basic, errorhandling, healthcheck`},
		{[]string{"reset"}, "no lab running"},
		{[]string{"tour", "3"}, "tour takes --from, not an argument: labctl tour --from 3"},
		{[]string{"tour", "--from", "11"}, "bad --from 11: the tour's steps are 1 to 10, e.g. labctl tour --from 7"},
		{[]string{"tour", "--yes"}, "no lab running"},
		{[]string{"sample", "-n", "0"}, "bad -n 0"},
		{[]string{"status", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"local", "up", "--server-code", "fancy"}, `invalid ServerCode "fancy"`},
		{[]string{"local", "up", "--port", "70000"}, "bad --port 70000"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), append(tt.args, "--state", state), &out, &errOut, noEnv)
			msg := errOut.String()
			if code == 0 || !strings.HasPrefix(msg, "labctl: ") || !strings.Contains(msg, tt.want) ||
				strings.Count(strings.TrimSpace(msg), "\n") != 0 {
				t.Fatalf("exit %d, stderr %q: want one line containing %q and a non-zero exit", code, msg, tt.want)
			}
		})
	}
}

// TestFaultHelpListsEveryFISFault keeps the help of `labctl fault` in step with the faults
// `--via fis` knows: one line per fault, each with its description.
func TestFaultHelpListsEveryFISFault(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"fault", "--help"}, &out, &errOut, noEnv); code != 0 {
		t.Fatalf("fault --help: exit %d, %s", code, errOut.String())
	}
	help := out.String()
	faults := labops.FISFaults()
	if len(fisFaultHelp) != len(faults) {
		t.Errorf("help describes %d faults, --via fis knows %d: %v", len(fisFaultHelp), len(faults), faults)
	}
	for _, name := range faults {
		desc := fisFaultHelp[name]
		if desc == "" {
			t.Errorf("no help for fault %s", name)
			continue
		}
		if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(name) + ` +` + regexp.QuoteMeta(desc) + `$`).MatchString(help) {
			t.Errorf("help lacks the line for %s:\n%s", name, help)
		}
	}
}

// TestLocalEnv evaluates `labctl local env`'s lines in a POSIX shell and checks what the AWS
// CLI and SDKs would then read.
func TestLocalEnv(t *testing.T) {
	st := labclient.State{
		PID: 42, URL: "http://127.0.0.1:8080", Endpoint: "http://127.0.0.1:45678", Region: "local-1",
		AccessKeyID: "AKIAEXAMPLE000000000", SecretAccessKey: "a/b+c'd",
	}
	cmd := exec.Command("sh", "-c", `eval "$1"; env`, "sh", shellEnv(st))
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "AWS_PROFILE=prod", "AWS_SESSION_TOKEN=old", "AWS_ENDPOINT_URL_SSM=http://elsewhere"}
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			got[k] = v
		}
	}
	want := map[string]string{
		"AWS_ENDPOINT_URL": st.Endpoint, "AWS_ACCESS_KEY_ID": st.AccessKeyID, "AWS_SECRET_ACCESS_KEY": st.SecretAccessKey,
		"AWS_REGION": "local-1", "AWS_DEFAULT_REGION": "local-1",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s=%q, want %q", k, got[k], v)
		}
	}
	for _, k := range []string{"AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_SSM"} {
		if _, set := got[k]; set {
			t.Errorf("%s still set", k)
		}
	}
}

// isolateAWS keeps the machine's AWS configuration (profiles, keys, region, instance
// metadata) out of a test.
func isolateAWS(t *testing.T) {
	t.Helper()
	for _, k := range []string{"AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID",
		"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}
