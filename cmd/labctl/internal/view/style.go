package view

import (
	"io"
	"os"

	"github.com/mattn/go-isatty"
)

// Paint names the colours the views use, one per target state.
type Paint int

// The paints: none, and one per state a target can be in.
const (
	Plain Paint = iota
	Good        // healthy, ✓
	Bad         // unhealthy, ✗
	Warn        // draining
	Info        // initial
)

// Style says how to draw: with ANSI colours or without.
type Style struct {
	Color bool
}

var ansi = map[Paint]string{Good: "\033[32m", Bad: "\033[31m", Warn: "\033[33m", Info: "\033[36m"}

func (s Style) paint(p Paint, text string) string {
	if !s.Color || p == Plain || text == "" {
		return text
	}
	return ansi[p] + text + "\033[0m"
}

// Paint colours text when the style has colour.
func (s Style) Paint(p Paint, text string) string { return s.paint(p, text) }

// StatePaint is the colour of a target state (ALB's names).
func StatePaint(state string) Paint {
	switch state {
	case "healthy":
		return Good
	case "unhealthy":
		return Bad
	case "draining":
		return Warn
	case "initial":
		return Info
	}
	return Plain
}

// StyleFor decides colour for output going to w: only when w is a terminal, NO_COLOR is
// unset or empty (no-color.org) and TERM is not "dumb".
//
// Terminal detection uses github.com/mattn/go-isatty: it is already in the module graph
// (through the jsii runtime), has no dependency beyond golang.org/x/sys, and also recognises
// Windows consoles and the Cygwin/MSYS terminals that an os.ModeCharDevice check misses.
func StyleFor(w io.Writer, getenv func(string) string) Style {
	if getenv("NO_COLOR") != "" || getenv("TERM") == "dumb" {
		return Style{}
	}
	return Style{Color: IsTerminal(w)}
}

// IsTerminal reports whether w is a terminal (a live screen, not a pipe or file).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fd := f.Fd()
	return isatty.IsTerminal(fd) || isatty.IsCygwinTerminal(fd)
}
