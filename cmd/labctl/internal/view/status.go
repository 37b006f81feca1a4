package view

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"healthchecklab/internal/lab"
	"healthchecklab/internal/targethealth"
)

// recentChecks is how many health-check results the watch view shows per target.
const recentChecks = 5

// WriteStatus draws the status view: what is observed, ServerCode and parameter, the
// health-check settings, one row per target, notes with ALB's full reasons, and counters.
func WriteStatus(w io.Writer, st Status, s Style) {
	writeHeader(w, st, time.Time{})
	cols := []column{
		{head: "AZ"},
		{head: "INSTANCE"},
		{head: "STATE", paint: StatePaint},
		{head: "REASON", flex: true, min: 8},
		{head: "ROLE"},
		{head: "SERVERCODE"},
	}
	counts := st.Counters != nil
	if counts {
		cols = append(cols, column{head: "REQS", right: true})
	}
	var rows [][]string
	for _, t := range st.Targets {
		row := []string{t.AZ(), ShortID(t.InstanceID), t.State, ShortReason(t.Reason, t.Description),
			ShortRole(t.Role), t.ServerCode}
		if counts {
			row = append(row, requests(t.Requests))
		}
		rows = append(rows, row)
	}
	table(w, s, Width, cols, rows)
	writeNotes(w, st)
	if k := st.Counters; k != nil {
		Wrap(w, fmt.Sprintf("requests %d · load-balancer 5xx %d (502: %d, 503: %d, 504: %d) · target 5xx %d · routed while failing open %d",
			k.Requests, k.ELB5xx, k.ELB502, k.ELB503, k.ELB504, k.Target5xx, k.FailOpen), Width, "  ")
	}
}

// WriteWatch draws the watch screen at time now: the status header, any deploy or repair in
// flight, and per target its state, its latest health-check results (✓ passed, ✗ failed,
// newest last) and the time to its next check.
func WriteWatch(w io.Writer, st Status, now time.Time, s Style) {
	writeHeader(w, st, now)
	cols := []column{
		{head: "AZ"},
		{head: "INSTANCE"},
		{head: "STATE", paint: StatePaint},
		{head: "CHECKS", paint: checksPaint},
		{head: "NEXT", right: true},
		{head: "REASON", flex: true, min: 8},
		{head: "ROLE"},
		{head: "SERVERCODE"},
	}
	var rows [][]string
	for _, t := range st.Targets {
		next := "-"
		if t.NextCheck != nil && t.State != "draining" {
			next = seconds(t.NextCheck.Sub(now).Round(time.Second))
		}
		rows = append(rows, []string{t.AZ(), ShortID(t.InstanceID), t.State, checks(t.Checks), next,
			ShortReason(t.Reason, t.Description), ShortRole(t.Role), t.ServerCode})
	}
	table(w, s, Width, cols, rows)
	writeNotes(w, st)
	if k := st.Counters; k != nil {
		fmt.Fprintf(w, "requests %d · LB 5xx %d · target 5xx %d · failing open %d\n",
			k.Requests, k.ELB5xx, k.Target5xx, k.FailOpen)
	}
	if line := ProcessLine(st.Processes); line != "" {
		Wrap(w, line, Width, "  ")
	}
}

func writeHeader(w io.Writer, st Status, now time.Time) {
	code := "ServerCode " + st.ServerCode
	if op := st.Operation; op != nil && op.ServerCode != "" {
		// The header follows a rollout: the codes still running, the one coming, how far.
		// A zone counts as done once it has a current instance with the new code (its old
		// one may still be there, leaving).
		var old []string
		zones, done := map[string]bool{}, map[string]bool{}
		for _, t := range st.Targets {
			if !t.Current {
				continue
			}
			zones[t.AZ()] = true
			if t.ServerCode == op.ServerCode {
				done[t.AZ()] = true
			} else if !slices.Contains(old, t.ServerCode) {
				old = append(old, t.ServerCode)
			}
		}
		if len(old) > 0 {
			sort.Strings(old)
			code = fmt.Sprintf("ServerCode %s → %s (%d of %d zones)", strings.Join(old, ", "), op.ServerCode, len(done), len(zones))
		}
	}
	Wrap(w, fmt.Sprintf("%s · %s=%s", code, lab.ParameterName, st.Parameter), Width, "  ")
	hc := st.HealthCheck
	fmt.Fprintln(w, Fit(fmt.Sprintf("check %s every %s, timeout %s; healthy after %d, unhealthy after %d",
		hc.Path, seconds(hc.Interval), seconds(hc.Timeout), hc.HealthyThreshold, hc.UnhealthyThreshold), Width))
	if line := asgLine(st); line != "" {
		Wrap(w, line, Width, "  ")
	}
	if len(st.ZoneNames) > 0 {
		letters := make([]string, 0, len(st.ZoneNames))
		for l := range st.ZoneNames {
			letters = append(letters, l)
		}
		sort.Strings(letters)
		parts := make([]string, len(letters))
		for i, l := range letters {
			parts[i] = l + " " + st.ZoneNames[l]
		}
		Wrap(w, "zones "+strings.Join(parts, " · "), Width, "      ")
	}
	if op := st.Operation; op != nil {
		what := op.Kind
		switch {
		case op.Kind == "deploy" && op.ServerCode != "":
			what = "rolling out ServerCode " + op.ServerCode
		case op.Kind == "repair" && op.Letter != "":
			what = "replacing the instance in zone " + op.Letter
		}
		if !now.IsZero() && !op.Started.IsZero() {
			what += " for " + seconds(now.Sub(op.Started).Round(time.Second))
		}
		if op.Last != "" {
			what += ": " + op.Last
		}
		Wrap(w, "» "+what, Width, "  ")
	}
	fmt.Fprintln(w)
}

// writeNotes prints, under a table, ALB's exact reason and description for each
// non-healthy target, and which role the noDDB zones have, grouping zones that share one.
func writeNotes(w io.Writer, st Status) {
	type note struct{ zones []string }
	var order []string
	notes := map[string]*note{}
	add := func(zone, text string) {
		n, ok := notes[text]
		if !ok {
			n = &note{}
			notes[text] = n
			order = append(order, text)
		}
		if !slices.Contains(n.zones, zone) {
			n.zones = append(n.zones, zone)
		}
	}
	for _, t := range st.Targets {
		if t.State == "unhealthy" && t.Reason != "" {
			text := t.Reason
			if t.Description != "" {
				text += ": " + t.Description
			}
			add(t.AZ(), text)
		}
		if ShortRole(t.Role) == "noDDB" {
			add(t.AZ(), "role "+t.Role+" (no DynamoDB access)")
		}
	}
	for _, text := range order {
		zs := notes[text].zones
		sort.Strings(zs)
		hang(w, fmt.Sprintf("%-6s", strings.Join(zs, " ")), text, Width, "      ")
	}
}

func requests(n int64) string {
	if n < 0 {
		return "-"
	}
	return strconv.FormatInt(n, 10)
}

// checks renders results oldest first: "✓✓✗✗✗".
func checks(cs []targethealth.Check) string {
	if len(cs) == 0 {
		return "-"
	}
	if len(cs) > recentChecks {
		cs = cs[len(cs)-recentChecks:]
	}
	var b strings.Builder
	for _, c := range cs {
		if c.OK {
			b.WriteString("✓")
		} else {
			b.WriteString("✗")
		}
	}
	return b.String()
}

// checksPaint colours a check column by its newest result.
func checksPaint(cell string) Paint {
	switch {
	case strings.HasSuffix(cell, "✓"):
		return Good
	case strings.HasSuffix(cell, "✗"):
		return Bad
	}
	return Plain
}

// asgLine says how Auto Scaling judges the instances and how many it replaced after a failed
// health check, by zone: the count chapter 11 watches grow.
func asgLine(st Status) string {
	if st.AsgHealthCheck == "" {
		return ""
	}
	total, letters := 0, make([]string, 0, len(st.Replaced))
	for l, n := range st.Replaced {
		total += n
		letters = append(letters, l)
	}
	sort.Strings(letters)
	line := fmt.Sprintf("Auto Scaling health check %s, grace %s · replaced after failed checks: %d", st.AsgHealthCheck, seconds(st.Grace), total)
	if total > 0 {
		parts := make([]string, len(letters))
		for i, l := range letters {
			parts[i] = fmt.Sprintf("%s %d", l, st.Replaced[l])
		}
		line += " (" + strings.Join(parts, ", ") + ")"
	}
	return line
}
