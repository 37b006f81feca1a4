package view

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// WriteSample draws a sample: per zone (every zone of the lab, 0 when it got nothing) the
// instances that answered, status codes, personalized and static answers; then each
// zone's recommendation text and diagnostic; then the load balancer's counters.
func WriteSample(w io.Writer, sm Sample, s Style) {
	Wrap(w, fmt.Sprintf("%d requests to %s: %s", sm.Requests, sm.URL, Codes(sm.Codes)), Width, "  ")
	fmt.Fprintln(w)
	cols := []column{
		{head: "AZ"},
		{head: "INSTANCE"},
		{head: "REQS", right: true},
		{head: "CODES", flex: true, min: 6, paint: codesPaint},
		{head: "PERSONALIZED", right: true},
		{head: "STATIC", right: true},
	}
	var rows [][]string
	for _, z := range sm.Zones {
		inst := "-"
		if len(z.Instances) > 0 {
			inst = ShortID(z.Instances[0])
			if len(z.Instances) > 1 {
				inst += fmt.Sprintf(" +%d", len(z.Instances)-1)
			}
		}
		rows = append(rows, []string{z.Letter, inst, strconv.Itoa(z.Requests), Codes(z.Codes),
			strconv.Itoa(z.Personalized), strconv.Itoa(z.Static)})
	}
	table(w, s, Width, cols, rows)
	for _, z := range sm.Zones {
		if z.Text != "" {
			hang(w, fmt.Sprintf("%-3s", z.Letter), z.Text, Width, "   ")
		}
		if z.Diagnostic != "" {
			// Two lines at most: the error kind and the start of its message.
			var b strings.Builder
			Wrap(&b, "diagnostic: "+z.Diagnostic, Width-3, "")
			lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
			if len(lines) > 2 {
				lines = lines[:2]
				lines[1] = Fit(lines[1]+" …", Width-3)
			}
			for _, l := range lines {
				fmt.Fprintln(w, "   "+l)
			}
		}
	}
	if k := sm.Counters; k != nil {
		Wrap(w, fmt.Sprintf("during the sample: load-balancer 5xx %d (502: %d, 503: %d, 504: %d) · target 5xx %d · routed while failing open %d",
			k.ELB5xx, k.ELB502, k.ELB503, k.ELB504, k.Target5xx, k.FailOpen), Width, "  ")
	}
}

// Codes renders status-code counts as "200×8 502×2"; "-" when there are none.
func Codes(m map[int]int) string {
	if len(m) == 0 {
		return "-"
	}
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d×%d", k, m[k])
	}
	return strings.Join(parts, " ")
}

// codesPaint colours a codes cell: red when any answer was a 5xx, green when all were 2xx.
func codesPaint(cell string) Paint {
	p := Plain
	for _, tok := range strings.Fields(cell) {
		switch tok[0] {
		case '5':
			return Bad
		case '2':
			p = Good
		default:
			return Plain
		}
	}
	return p
}
