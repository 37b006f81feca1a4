package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"healthchecklab/internal/lab"
	"healthchecklab/internal/localb"
	"healthchecklab/internal/repo"
)

// docClaim is a number the documentation states that the code can change under it: every
// match of re (its first group) in files must read want, and required claims must appear.
type docClaim struct {
	what     string
	files    []string
	re       string
	want     string
	required bool
}

// TestDocumentedNumbers fails when a figure in the README or docs/ no longer matches the
// value the code uses: the target group's health-check settings, the idle timeout, the
// --fast mode's figures and the web server's cache lifetimes, timeouts and limits.
func TestDocumentedNumbers(t *testing.T) {
	root, err := repo.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	o, err := parseOptions([]string{"-server-code", "basic", "-table", "t"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	hc, fast := lab.TargetGroupHealthCheck, localb.Fast(lab.TargetGroupHealthCheck)
	const (
		readme = "README.md"
		web    = "docs/webserver.md"
		local  = "docs/local-lab.md"
		deploy = "docs/deploying.md"
	)
	all := []string{readme, web, local, deploy}
	claims := []docClaim{
		// The target group (internal/lab).
		{"health-check interval", []string{readme}, `/healthcheck every (\d+) s`, secs(hc.Interval), true},
		{"health-check timeout", []string{readme}, `every \d+ s, (\d+) s timeout`, secs(hc.Timeout), true},
		{"target group timeout", all, `target group's (\d+) s timeout`, secs(hc.Timeout), true},
		{"healthy threshold", []string{readme}, `healthy (\d+) / unhealthy`, fmt.Sprint(hc.HealthyThreshold), true},
		{"unhealthy threshold", []string{readme}, `healthy \d+ / unhealthy (\d+)`, fmt.Sprint(hc.UnhealthyThreshold), true},
		{"deregistration delay", all, `deregistration (?:delay )?(\d+) s|(?:inside the|within the) (\d+) s deregistration`, secs(hc.DeregistrationDelay), true},
		{"the lab's interval", all, `lab's (?:real )?(\d+) s`, secs(hc.Interval), true},
		{"time to unhealthy", all, `(\d+–\d+) s`, fmt.Sprintf("%d–%d", int(hc.Interval.Seconds())*(hc.UnhealthyThreshold-1), int(hc.Interval.Seconds())*hc.UnhealthyThreshold), true},
		{"idle timeout", []string{local}, `idle timeout \((\d+) s`, secs(lab.IdleTimeout), true},
		{"FIS fault duration", []string{readme}, `after (\d+) minutes`, fmt.Sprint(int(lab.FaultDuration.Minutes())), true},

		// --fast (internal/localb).
		{"fast interval", all, `(\d+) s health checks with the same thresholds`, secs(fast.Interval), true},
		{"fast interval reported", []string{local}, `reports a (\d+) s interval`, secs(fast.Interval), true},
		{"fast idle timeout", []string{local}, `(\d+) s with ` + "`--fast`", secs(localb.FastIdleTimeout()), true},
		{"fast health-check timeout", []string{local}, `health-check timeout \((\d+) ms\)`, fmt.Sprint(fast.Timeout.Milliseconds()), true},

		// The web server's defaults (its flags).
		{"dependency timeout flag", []string{web}, `-dependency-timeout (\d+)s`, secs(o.dependencyTimeout), true},
		{"dependency timeout", all, `call is bounded by (\d+) s|both bounded by (\d+) s|cut off after (\d+) s|within their (\d+) s|server's (\d+) s dependency timeout`, secs(o.dependencyTimeout), true},
		{"parameter TTL flag", []string{web}, `-parameter-ttl (\d+)s`, secs(o.parameterTTL), true},
		{"parameter TTL", all, `parameter is cached (\d+) s|\(cached (\d+) s|after its (\d+) s|parameter is kept (\d+) s|keeps a value (\d+) s|arrives more than (\d+) s after`, secs(o.parameterTTL), true},
		{"parameter cache", all, `(\d+) s parameter cache`, secs(o.parameterTTL), false},
		{"health TTL flag", []string{web}, `-health-ttl (\d+)s`, secs(o.healthTTL), true},
		{"health TTL", all, `result is reused for (?:at most )?(\d+) s`, secs(o.healthTTL), true},
		{"credentials max age flag", []string{web}, `-credentials-max-age (\d+)s`, secs(o.credentialsMaxAge), true},
		{"credentials max age", []string{web}, `every (\d+) s \(` + "`-credentials-max-age`", secs(o.credentialsMaxAge), true},
		{"max in flight", []string{web}, `-max-in-flight (\d+)`, fmt.Sprint(o.maxInFlight), true},
		{"read header timeout", []string{web}, `-read-header-timeout (\d+)s`, secs(o.readHeaderTimeout), true},
		{"shutdown timeout flag", []string{web}, `-shutdown-timeout (\d+)s`, secs(o.shutdownTimeout), true},
		{"shutdown timeout", []string{web}, `in-flight requests within (\d+) s`, secs(o.shutdownTimeout), true},
		{"metadata timeout", []string{web}, `-metadata-timeout (\d+)s`, secs(o.metadataTimeout), true},
		{"max header bytes", []string{web}, "`-max-header-bytes`, ([\\d,]+) bytes", thousands(o.maxHeaderBytes), true},
		{"parameter refresh bound", []string{web}, `in the background, bounded by (\d+) s`, secs(parameterRefreshTimeout), true},
		{"parameter wait", all, `waits (?:for it )?up to (\d+) ms`, fmt.Sprint(parameterWait(o.dependencyTimeout).Milliseconds()), true},
	}
	text := map[string]string{}
	for _, f := range all {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		// Line breaks inside a sentence are spaces to a reader.
		text[f] = strings.Join(strings.Fields(string(b)), " ")
	}
	for _, c := range claims {
		re := regexp.MustCompile(c.re)
		n := 0
		for _, f := range c.files {
			for _, m := range re.FindAllStringSubmatch(text[f], -1) {
				got := firstGroup(m)
				n++
				if got != c.want {
					t.Errorf("%s: %s says %q in %q, the code has %s", c.what, f, got, m[0], c.want)
				}
			}
		}
		if c.required && n == 0 {
			t.Errorf("%s: no match for %q in %v: the sentence that states it changed; update this test", c.what, c.re, c.files)
		}
	}
}

// firstGroup is the first non-empty capture group of a match.
func firstGroup(m []string) string {
	for _, g := range m[1:] {
		if g != "" {
			return g
		}
	}
	return ""
}

// secs writes d in whole seconds, as the documents do.
func secs(d time.Duration) string {
	if d%time.Second != 0 {
		return d.String()
	}
	return fmt.Sprint(int(d / time.Second))
}

// thousands writes n with comma separators (16,384).
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
