package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"healthchecklab/cmd/labctl/internal/labops"
	"healthchecklab/cmd/labctl/internal/view"
	"healthchecklab/internal/lab"
	"healthchecklab/internal/labclient"
)

// printStatus draws a status on the 80-column screen of package view.
func printStatus(out io.Writer, st labops.Status, s view.Style) {
	v := statusView(st)
	view.WriteStatus(out, v, s)
	view.WriteProcesses(out, v.Processes, s)
}

// printSample draws a sample on the 80-column screen of package view.
func printSample(out io.Writer, sm labops.Sample, s view.Style) {
	view.WriteSample(out, sampleView(sm), s)
}

// labLine names the local lab a status came from: its state file, when it started and its
// pid, and its LabId when it has one, so a user with two labs sees which one answered.
func labLine(li labops.LabIdentity, now time.Time) string {
	var b strings.Builder
	if li.LabID != "" {
		fmt.Fprintf(&b, "LabId %s · ", li.LabID)
	}
	fmt.Fprintf(&b, "state file %s · started %s", li.StateFile, li.Started.Local().Format("2006-01-02 15:04:05"))
	if !li.Started.IsZero() && now.After(li.Started) {
		fmt.Fprintf(&b, " (%s ago)", now.Sub(li.Started).Round(time.Second))
	}
	fmt.Fprintf(&b, " · pid %d", li.PID)
	return b.String()
}

// statusView is what the screens show of a status.
func statusView(st labops.Status) view.Status {
	hc := st.HealthCheck
	v := view.Status{
		ServerCode: st.ServerCode, Parameter: st.Parameter,
		HealthCheck: lab.HealthCheck{
			Path: hc.Path, Interval: seconds(hc.IntervalSeconds), Timeout: seconds(hc.TimeoutSeconds),
			HealthyThreshold: hc.HealthyThreshold, UnhealthyThreshold: hc.UnhealthyThreshold,
			SuccessCodes: hc.SuccessCodes, DeregistrationDelay: seconds(hc.DeregistrationDelay),
		},
		AsgHealthCheck: st.AsgHealthCheck, Grace: seconds(st.GraceSeconds), Replaced: st.ReplacedSince(time.Time{}),
	}
	v.Counters = st.Counters
	if v.Operation = st.Operation; v.Operation == nil && st.Busy != "" {
		v.Operation = &labclient.Operation{Kind: st.Busy}
	}
	letterOf := map[string]string{}
	for letter, z := range st.Zones {
		if v.ZoneNames == nil {
			v.ZoneNames = map[string]string{}
		}
		v.ZoneNames[letter] = z.Name
		letterOf[z.Name] = letter
	}
	for _, p := range st.Processes {
		vp := view.Process{Name: p.Name, InstanceID: p.InstanceID, Letter: letterOf[p.Zone], PID: p.PID,
			State: string(p.State), Restarts: p.Restarts, LastExit: p.LastExit}
		if p.Frozen {
			vp.State = "frozen"
		}
		if vp.Letter == "" {
			vp.Letter = p.Zone
		}
		v.Processes = append(v.Processes, vp)
	}
	v.Targets = st.Targets
	return v
}

// sampleView is what the screens show of a sample; answers from no known zone are zone "?".
func sampleView(sm labops.Sample) view.Sample {
	v := view.Sample{URL: sm.URL, Requests: sm.Requests, Codes: codeCounts(sm.Codes)}
	v.Counters = sm.Counters
	for _, z := range sm.Zones {
		vz := view.ZoneSample{Letter: z.Letter, Instances: z.Instances, Requests: z.Requests, Codes: codeCounts(z.Codes),
			Personalized: z.Personalized, Static: z.Static, Text: z.Text}
		if vz.Letter == "" {
			vz.Letter = "?"
		}
		if len(z.Diagnostics) > 0 {
			vz.Diagnostic = z.Diagnostics[0]
		}
		v.Zones = append(v.Zones, vz)
	}
	return v
}

func codeCounts(m map[string]int) map[int]int {
	out := make(map[int]int, len(m))
	for k, n := range m {
		if c, err := strconv.Atoi(k); err == nil {
			out[c] += n
		}
	}
	return out
}

func seconds(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }
