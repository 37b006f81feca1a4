package view

import (
	"bytes"
	"strings"
	"testing"
)

func labProcesses() []Process {
	return []Process{
		{Name: "labctl", PID: 4100, State: "running"},
		{Name: "dynalite", PID: 4200, State: "running", Restarts: 1, LastExit: "signal: killed"},
		{Name: "web server of i-0123456789abcdef0 in eu-west-1a", Letter: "a", InstanceID: "i-0123456789abcdef0", State: "restarting", Restarts: 2, LastExit: "signal: killed"},
		{Name: "web server of i-0fedcba9876543210 in eu-west-1b", Letter: "b", InstanceID: "i-0fedcba9876543210", PID: 4400, State: "running", Restarts: 3, LastExit: "exit status 2"},
		{Name: "web server of i-00000000000000c0c in eu-west-1c", Letter: "c", InstanceID: "i-00000000000000c0c", PID: 4500, State: "frozen"},
	}
}

// TestProcesses: status lists every process of the local lab with its pid, state,
// restarts and last exit; watch sums them up on one line; AWS (no processes) shows neither.
func TestProcesses(t *testing.T) {
	var table bytes.Buffer
	WriteProcesses(&table, labProcesses(), Style{})
	fits(t, "processes", table.String())
	for _, want := range []string{
		"PROCESS", "RESTARTS", "LAST EXIT",
		"labctl", "4100",
		"dynalite", "signal: killed",
		"web a i-…9abcdef0", "restarting",
		"web b i-…76543210", "exit status 2",
		"frozen",
	} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("process table lacks %q:\n%s", want, table.String())
		}
	}
	if line := strings.Split(table.String(), "\n")[4]; !strings.Contains(line, "web a") || !strings.Contains(line, " - ") {
		t.Errorf("a restarting process shows no pid: %q", line)
	}

	want := "processes: dynalite running (1 restart) · web a restarting (signal: killed) · web b running (3 restarts) · web c frozen"
	if got := ProcessLine(labProcesses()); got != want {
		t.Errorf("ProcessLine:\n got %q\nwant %q", got, want)
	}
	st := busyStatus()
	st.Processes = labProcesses()
	var watch bytes.Buffer
	WriteWatch(&watch, st, now, Style{})
	fits(t, "watch with processes", watch.String())
	if !strings.Contains(strings.Join(strings.Fields(watch.String()), " "), "web a restarting (signal: killed)") {
		t.Errorf("watch lacks the restarting web server:\n%s", watch.String())
	}

	var none bytes.Buffer
	WriteProcesses(&none, nil, Style{})
	if none.Len() != 0 || ProcessLine(nil) != "" {
		t.Errorf("without processes: %q, %q", none.String(), ProcessLine(nil))
	}
	var colour bytes.Buffer
	WriteProcesses(&colour, labProcesses(), Style{Color: true})
	if !strings.Contains(colour.String(), "\033[") {
		t.Error("no colour on a colour terminal")
	}
}
