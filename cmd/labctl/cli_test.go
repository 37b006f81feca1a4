package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestErrors checks the one-line errors and non-zero exit of bad command lines, with no lab
// running.
func TestErrors(t *testing.T) {
	state := filepath.Join(t.TempDir(), "none.json")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"status"}, "no lab running"},
		{[]string{"sample"}, "no lab running"},
		{[]string{"watch"}, "no lab running"},
		{[]string{"dependency", "on"}, "no lab running"},
		{[]string{"local", "down"}, "no lab running"},
		{[]string{"repair", "--az", "c"}, "no lab running"},
		{[]string{"dependency", "maybe"}, `invalid argument "maybe"`},
		{[]string{"dependency"}, "accepts 1 arg"},
		{[]string{"fault", "stale-credentials", "--az", "d"}, `unknown zone "d": use a, b, c`},
		{[]string{"fault", "meteor", "--az", "a"}, `unknown fault "meteor"`},
		{[]string{"fault", "stale-credentials"}, `required flag(s) "az" not set`},
		{[]string{"repair", "--az", "z"}, `unknown zone "z"`},
		{[]string{"deploy", "--server-code", "deep"}, "must be one of basic, errorhandling, healthcheck"},
		{[]string{"deploy"}, `required flag(s) "server-code" not set`},
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
