package main

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"healthchecklab/internal/lab"
	"healthchecklab/internal/standin/dynalite"
)

// TestParameterChangeSeenInEveryMode flips RecommendationServiceEnabled and sends the first
// request more than ttl + 1 s later, after a silence (on a fake clock), over HTTP to the site
// in each ServerCode, with the RecommendationService in dynalite: that request already shows
// the change, as / and, in healthcheck mode, as /healthcheck.
func TestParameterChangeSeenInEveryMode(t *testing.T) {
	const ttl = 5 * time.Second
	for _, code := range []lab.ServerCode{lab.CodeBasic, lab.CodeErrorHandling, lab.CodeHealthCheck} {
		t.Run(string(code), func(t *testing.T) {
			t.Parallel()
			clk := &clock{t: time.Unix(1e9, 0)}
			ps := newFakeParameterStore("true")
			params := newParamCache(ps.fetch, ttl, parameterWait(time.Second), time.Second, quiet)
			params.now, params.at = clk.now, clk.at
			ddb := dynalite.NewClient(dynaliteURL, "us-east-1", normalRole)
			svc := &service{table: dynalite.DefaultTableName, timeout: 5 * time.Second, params: params, ddb: ddb, healthDDB: ddb}
			ts := httptest.NewServer(newServer(deps{
				logger: quiet, code: code, metadata: Metadata{OutsideAWS: true}, service: svc,
				health: newHealthChecker(svc.probe, 0, 5*time.Second), maxInFlight: 8,
			}))
			defer ts.Close()

			// expect checks what / and /healthcheck answer with the service enabled or not.
			expect := func(when string, enabled bool) {
				t.Helper()
				status, body, err := get(t, ts.URL+"/?user=1", "application/json")
				switch {
				case enabled:
					if err != nil || status != 200 || !strings.Contains(body, `"personalized":true`) {
						t.Errorf("%s: / = %d %q %v; want personalized", when, status, body, err)
					}
				case code == lab.CodeBasic:
					if err == nil {
						t.Errorf("%s: / = %d %q; want the connection dropped", when, status, body)
					}
				default:
					if err != nil || status != 200 || !strings.Contains(body, `"personalized":false`) || !strings.Contains(body, "ResourceNotFoundException") {
						t.Errorf("%s: / = %d %q %v; want the static answer with ResourceNotFoundException", when, status, body, err)
					}
				}
				if code != lab.CodeHealthCheck {
					return
				}
				wantHealth := 200
				if !enabled {
					wantHealth = 503
				}
				if status, body, err := get(t, ts.URL+"/healthcheck", "application/json"); err != nil || status != wantHealth {
					t.Errorf("%s: /healthcheck = %d %q %v; want %d", when, status, body, err, wantHealth)
				}
			}

			expect("before the change", true)
			for _, silence := range []time.Duration{ttl + time.Second + time.Millisecond, 10 * time.Second, 30 * time.Second} {
				ps.set("false", nil)
				clk.add(silence)
				expect("first request "+silence.String()+" after disabling", false)
				ps.set("true", nil)
				clk.add(silence)
				expect("first request "+silence.String()+" after enabling", true)
			}
		})
	}
}
