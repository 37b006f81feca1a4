package main

import (
	"bytes"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"healthchecklab/cmd/labctl/internal/target"
	"healthchecklab/cmd/labctl/internal/view"
)

func newWatchCmd(g *globals) *cobra.Command {
	var every time.Duration
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "Live target health, latest health checks, time to the next one and a deploy or repair in flight (Ctrl-C stops)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if every != 0 && every < 100*time.Millisecond {
				return fmt.Errorf("bad --interval %s: use at least 100ms, e.g. labctl watch --interval 1s", every)
			}
			ctx := cmd.Context()
			l, err := g.open(cmd, false)
			if err != nil {
				return err
			}
			if every == 0 {
				every = time.Second
				if l.T.Kind == target.AWS {
					every = awsWatchInterval
				}
			}
			out := cmd.OutOrStdout()
			// On a terminal the screen is redrawn in place; into a pipe or file, a new
			// screen is printed only when something other than the clocks and request
			// counts changed.
			tty := view.IsTerminal(out)
			style := view.StyleFor(out, g.getenv)
			var last []byte
			for {
				st, err := l.Status(ctx)
				if ctx.Err() != nil {
					return nil
				}
				if err != nil {
					return err
				}
				now := time.Now()
				vs := statusView(st)
				var screen bytes.Buffer
				view.WriteWatch(&screen, vs, now, style)
				if tty {
					fmt.Fprintf(out, "\033[H\033[2J%s\n%s · every %s · Ctrl-C stops\n", view.Fit(l.Describe(), view.Width), now.Format("15:04:05"), every)
					_, _ = out.Write(screen.Bytes())
				} else if key := watchKey(vs); !bytes.Equal(key, last) {
					fmt.Fprintf(out, "--- %s\n", now.Format("15:04:05"))
					_, _ = out.Write(screen.Bytes())
					last = key
				}
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

// watchKey is what makes a new screen worth printing into a pipe: everything but the
// request counts and the health checks' clocks.
func watchKey(vs view.Status) []byte {
	vs.Counters = nil
	vs.Targets = append([]view.Target(nil), vs.Targets...)
	for i := range vs.Targets {
		vs.Targets[i].Requests = -1
	}
	var key bytes.Buffer
	view.WriteStatus(&key, vs, view.Style{})
	// A process that exits or comes back is news too.
	key.WriteString(view.ProcessLine(vs.Processes))
	return key.Bytes()
}

// awsWatchInterval is watch's refresh on AWS: a few API calls per refresh, well inside AWS's
// rate limits. The local lab refreshes every second.
const awsWatchInterval = 5 * time.Second
