package tour

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
)

// Prompter asks the person running the tour. Tests answer through their own.
type Prompter interface {
	// Continue shows prompt and waits: true to go on, false to stop the tour here.
	Continue(ctx context.Context, prompt string) (bool, error)
	// Confirm asks a yes/no question; no is the default.
	Confirm(ctx context.Context, question string) (bool, error)
}

// LinePrompter prompts on out and reads answers a line at a time from in: Enter continues,
// q stops; y confirms. The end of in stops the tour.
type LinePrompter struct {
	in    io.Reader
	out   io.Writer
	once  sync.Once
	lines chan string
}

// NewLinePrompter returns a prompter reading in and writing out.
func NewLinePrompter(in io.Reader, out io.Writer) *LinePrompter {
	return &LinePrompter{in: in, out: out}
}

// read returns the next line; it gives up when ctx ends (the reader goroutine then stays
// blocked on the terminal until the process exits, which it is about to).
func (p *LinePrompter) read(ctx context.Context) (string, bool, error) {
	p.once.Do(func() {
		p.lines = make(chan string)
		go func() {
			sc := bufio.NewScanner(p.in)
			for sc.Scan() {
				p.lines <- sc.Text()
			}
			close(p.lines)
		}()
	})
	select {
	case <-ctx.Done():
		return "", false, ctx.Err()
	case l, ok := <-p.lines:
		return strings.ToLower(strings.TrimSpace(l)), ok, nil
	}
}

// Continue implements Prompter.
func (p *LinePrompter) Continue(ctx context.Context, prompt string) (bool, error) {
	fmt.Fprintf(p.out, "%s ", prompt)
	l, ok, err := p.read(ctx)
	if err != nil || !ok {
		fmt.Fprintln(p.out)
		return false, err
	}
	return l != "q" && l != "quit", nil
}

// Confirm implements Prompter.
func (p *LinePrompter) Confirm(ctx context.Context, question string) (bool, error) {
	fmt.Fprintf(p.out, "%s [y/N] ", question)
	l, ok, err := p.read(ctx)
	if err != nil || !ok {
		fmt.Fprintln(p.out)
		return false, err
	}
	return l == "y" || l == "yes", nil
}
