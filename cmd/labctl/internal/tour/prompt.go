package tour

import (
	"bufio"
	"context"
	"errors"
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

// ErrNoInput is a prompt's error when its input has ended without an answer.
var ErrNoInput = errors.New("no answer on standard input (run with --yes to go without prompts)")

// LinePrompter prompts on out and reads answers a line at a time from in: Enter continues,
// q stops; y confirms. The end of in is ErrNoInput.
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

// ask shows prompt and returns the answer, ErrNoInput at the end of the input, or ctx's
// error when it ends first.
func (p *LinePrompter) ask(ctx context.Context, prompt string) (string, bool, error) {
	fmt.Fprintf(p.out, "%s ", prompt)
	l, ok, err := p.read(ctx)
	if err == nil && !ok {
		err = ErrNoInput
	}
	if err != nil {
		fmt.Fprintln(p.out)
		return "", false, err
	}
	return l, true, nil
}

// Continue implements Prompter.
func (p *LinePrompter) Continue(ctx context.Context, prompt string) (bool, error) {
	l, ok, err := p.ask(ctx, prompt)
	return ok && l != "q" && l != "quit", err
}

// Confirm implements Prompter.
func (p *LinePrompter) Confirm(ctx context.Context, question string) (bool, error) {
	l, ok, err := p.ask(ctx, question+" [y/N]")
	return ok && (l == "y" || l == "yes"), err
}
