package view

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Process is one process of a local lab and its supervision: the lab restarts dynalite and
// the web servers when they exit. AWS has no such list; a deployed stack's processes are
// its instances' business.
type Process struct {
	Name       string // "labctl", "dynalite", or a web server's description
	Letter     string // a web server's zone letter; "" for the others
	InstanceID string // a web server's instance
	PID        int    // 0 while it restarts
	State      string // running, frozen (stopped by a signal, not restarted), restarting or stopped
	Restarts   int
	LastExit   string // how its last run ended, e.g. "signal: killed"
}

// label is a process's short name: "dynalite", "web a i-…9abcdef0".
func (p Process) label() string {
	if p.InstanceID == "" {
		return p.Name
	}
	return "web " + p.Letter + " " + ShortID(p.InstanceID)
}

// processPaint colours a process state: running good, restarting a warning.
func processPaint(state string) Paint {
	switch state {
	case "running":
		return Good
	case "restarting":
		return Warn
	case "frozen":
		return Bad
	}
	return Plain
}

// WriteProcesses draws the local lab's processes as a table under a status: each one's
// pid, state, restarts and how its last run ended. It writes nothing without processes.
func WriteProcesses(w io.Writer, ps []Process, s Style) {
	if len(ps) == 0 {
		return
	}
	fmt.Fprintln(w)
	cols := []column{
		{head: "PROCESS"},
		{head: "PID", right: true},
		{head: "STATE", paint: processPaint},
		{head: "RESTARTS", right: true},
		{head: "LAST EXIT", flex: true, min: 8},
	}
	var rows [][]string
	for _, p := range ps {
		pid := "-"
		if p.PID > 0 {
			pid = strconv.Itoa(p.PID)
		}
		rows = append(rows, []string{p.label(), pid, p.State, strconv.Itoa(p.Restarts), orDash(p.LastExit)})
	}
	table(w, s, Width, cols, rows)
}

// ProcessLine is the watch screen's summary of the processes: dynalite and each web
// server with its state, and restarts where there were any. Empty without processes.
func ProcessLine(ps []Process) string {
	var parts []string
	for _, p := range ps {
		if p.Name == "labctl" {
			continue // it is what the watch screen talks to
		}
		name := p.Name
		if p.InstanceID != "" {
			name = "web " + p.Letter
		}
		part := name + " " + p.State
		switch {
		case p.State == "restarting" && p.LastExit != "":
			part += " (" + p.LastExit + ")"
		case p.Restarts == 1:
			part += " (1 restart)"
		case p.Restarts > 1:
			part += fmt.Sprintf(" (%d restarts)", p.Restarts)
		}
		parts = append(parts, part)
	}
	if len(parts) == 0 {
		return ""
	}
	return "processes: " + strings.Join(parts, " · ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
