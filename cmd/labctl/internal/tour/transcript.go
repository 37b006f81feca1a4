package tour

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// markdown writes the transcript of a run as it goes, so an interrupted run still leaves
// one. A nil writer makes every method a no-op.
type markdown struct{ w io.Writer }

func (m *markdown) printf(format string, args ...any) {
	if m.w != nil {
		fmt.Fprintf(m.w, format, args...)
	}
}

func (m *markdown) header(lab string, start time.Time) {
	m.printf("# HealthCheckLab tour\n\nOn the %s, started %s.\n", lab, start.UTC().Format("2006-01-02 15:04:05 UTC"))
}

func (m *markdown) section(title, text string) {
	m.printf("\n## %s\n\n%s\n", title, text)
}

func (m *markdown) step(s Step) {
	m.printf("\n## Step %d: %s\n\n%s\n\n```sh\n%s\n```\n", s.N, s.Title,
		strings.Join(strings.Fields(s.Explain), " "), strings.Join(s.Commands(), "\n"))
}

func (m *markdown) action(cmd string, lines []string, took time.Duration, err error) {
	m.printf("\n`%s` (%s)", cmd, seconds(took))
	if err != nil {
		m.printf(": **failed**: %v", err)
	}
	m.printf("\n")
	if len(lines) > 0 {
		m.printf("\n```text\n%s\n```\n", strings.Join(lines, "\n"))
	}
}

func (m *markdown) line(s string) { m.printf("\n%s\n", s) }

func (m *markdown) checks(rs []Result, status, sample string, took time.Duration) {
	m.printf("\n")
	for _, r := range rs {
		mark := "✓"
		if !r.OK {
			mark = "✗"
		}
		m.printf("- %s %s (saw: %s)\n", mark, r.What, r.Saw)
	}
	m.printf("\n```text\n%s\n%s```\n\nStep took %s.\n", status, sample, seconds(took))
}

func (m *markdown) result(s string) { m.printf("\n## Result\n\n%s\n", s) }
