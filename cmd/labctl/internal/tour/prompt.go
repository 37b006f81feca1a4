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

// LinePrompter prompts on out and reads answers a line at a time from in: Enter or n goes on,
// q stops; y confirms, Enter or n declines. Any other answer asks again, so a stray key never
// runs a step. Ctrl-C ends the context and with it the prompt. The end of in is ErrNoInput.
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
	return p.choose(ctx, prompt, map[string]bool{"": true, "n": true, "next": true, "q": false, "quit": false},
		"Enter or n runs it, q stops")
}

// Confirm implements Prompter.
func (p *LinePrompter) Confirm(ctx context.Context, question string) (bool, error) {
	return p.choose(ctx, question+" [y/N]", map[string]bool{"y": true, "yes": true, "": false, "n": false, "no": false},
		"y goes ahead, Enter or n does not")
}

// choose asks until the answer is one of answers, saying what the choices are after an
// answer that is not.
func (p *LinePrompter) choose(ctx context.Context, prompt string, answers map[string]bool, choices string) (bool, error) {
	for {
		l, ok, err := p.ask(ctx, prompt)
		if err != nil || !ok {
			return false, err
		}
		if v, known := answers[l]; known {
			return v, nil
		}
		fmt.Fprintf(p.out, "%q is not an answer here: %s.\n", l, choices)
	}
}
