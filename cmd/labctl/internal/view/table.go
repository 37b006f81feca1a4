// Package view draws what labctl shows of a lab (target health, a traffic sample, the live
// watch screen) for a classroom screen: every line fits 80 columns, long ids and ALB reasons
// are shortened by fixed rules with the full wording kept in notes under the table, and
// states are coloured only on a terminal that wants colour.
package view

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Width is the screen width every view fits: the classic terminal, and what a projector
// shows legibly.
const Width = 80

// gap separates table columns.
const gap = "  "

// column describes one table column. A flex column gives up width when the table would
// not fit; its cells are then cut with an ellipsis.
type column struct {
	head  string
	right bool
	flex  bool
	min   int
	// paint colours a cell after padding, so escape codes never count towards the width.
	paint func(cell string) Paint
}

// table lays rows out under cols within width columns and writes them to w.
func table(w io.Writer, st Style, width int, cols []column, rows [][]string) {
	widths := make([]int, len(cols))
	for i, c := range cols {
		widths[i] = runes(c.head)
		for _, r := range rows {
			widths[i] = max(widths[i], runes(r[i]))
		}
	}
	total := len(gap) * (len(cols) - 1)
	for _, n := range widths {
		total += n
	}
	// Shrink flex columns, last first, until the table fits.
	for i := len(cols) - 1; i >= 0 && total > width; i-- {
		if !cols[i].flex {
			continue
		}
		floor := max(cols[i].min, runes(cols[i].head), 1)
		cut := min(total-width, widths[i]-floor)
		if cut > 0 {
			widths[i] -= cut
			total -= cut
		}
	}
	line := func(cells []string, paint bool) {
		var b strings.Builder
		for i, c := range cols {
			cell := Fit(cells[i], widths[i])
			pad := strings.Repeat(" ", widths[i]-runes(cell))
			if c.right {
				cell = pad + cell
			} else if i < len(cols)-1 {
				cell += pad
			}
			if paint && c.paint != nil {
				cell = st.paint(c.paint(strings.TrimSpace(cells[i])), cell)
			}
			if i > 0 {
				b.WriteString(gap)
			}
			b.WriteString(cell)
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	heads := make([]string, len(cols))
	for i, c := range cols {
		heads[i] = c.head
	}
	line(heads, false)
	for _, r := range rows {
		line(r, true)
	}
}

// runes is the display width of s: every character labctl prints is one column wide.
func runes(s string) int { return utf8.RuneCountInString(s) }

// Fit returns s cut to at most n columns, ending in "…" when it was cut.
func Fit(s string, n int) string {
	if runes(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// Wrap writes text word-wrapped to width columns, keeping its leading spaces; continuation
// lines get indent. A single word longer than a line is cut with an ellipsis rather than
// overflowing.
func Wrap(w io.Writer, text string, width int, indent string) {
	hang(w, text[:len(text)-len(strings.TrimLeft(text, " "))], text, width, indent)
}

// hang writes first, then text word-wrapped to width columns after it; continuation lines
// start with indent.
func hang(w io.Writer, first, text string, width int, indent string) {
	line, empty := first, true
	flush := func() {
		fmt.Fprintln(w, strings.TrimRight(line, " "))
		line, empty = indent, true
	}
	for _, word := range strings.Fields(text) {
		word = Fit(word, width-runes(indent))
		switch {
		case empty:
			line += word
		case runes(line)+1+runes(word) <= width:
			line += " " + word
		default:
			flush()
			line += word
		}
		empty = false
	}
	if !empty {
		flush()
	}
}
