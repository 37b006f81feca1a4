package main

import (
	"bytes"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"healthchecklab/cmd/labctl/internal/target"
)

func newWatchCmd(g *globals) *cobra.Command {
	var every time.Duration
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "Live target-health view until interrupted (Ctrl-C)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if every != 0 && every < 100*time.Millisecond {
				return fmt.Errorf("bad --interval %s: use at least 100ms", every)
			}
			ctx := cmd.Context()
			l, err := g.open(cmd, false)
			if err != nil {
				return err
			}
			if every == 0 {
				every = time.Second
				if l.T.Kind == target.AWS {
					every = 5 * time.Second // a few API calls per refresh, well inside AWS's rate limits
				}
			}
			out := cmd.OutOrStdout()
			// On a terminal the view is redrawn in place; into a pipe or file, a new view is
			// printed only when it changed.
			tty := false
			if f, ok := out.(*os.File); ok {
				if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
					tty = true
				}
			}
			var last []byte
			for {
				st, err := l.Status(ctx)
				if ctx.Err() != nil {
					return nil
				}
				if err != nil {
					return err
				}
				var view bytes.Buffer
				printStatus(&view, st)
				if tty {
					fmt.Fprintf(out, "\033[H\033[2J%s   %s  (every %s, Ctrl-C to stop)\n", l.Describe(), time.Now().Format("15:04:05"), every)
					_, _ = out.Write(view.Bytes())
				} else if !bytes.Equal(view.Bytes(), last) {
					fmt.Fprintf(out, "--- %s\n", time.Now().Format("15:04:05"))
					_, _ = out.Write(view.Bytes())
				}
				last = view.Bytes()
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(every):
				}
			}
		},
	}
	cmd.Flags().DurationVar(&every, "interval", 0, "refresh interval (default 1s on the local lab, 5s on AWS)")
	return cmd
}
