package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"healthchecklab/cmd/labctl/internal/labops"
	"healthchecklab/cmd/labctl/internal/target"
	"healthchecklab/cmd/labctl/internal/tour"
	"healthchecklab/cmd/labctl/internal/view"
	"healthchecklab/internal/lab"
)

func newTourCmd(g *globals) *cobra.Command {
	var (
		yes        bool
		from       int
		transcript string
		chapters   []int
	)
	cmd := &cobra.Command{
		Use:   "tour [--yes] [--from N | --chapters 11,12] [--transcript FILE]",
		Args:  flagInstead("tour", "--from", "labctl tour --from %s"),
		Short: "Walk the lab's ten checkpoints: explain each step, run it, wait for the outcome and check it",
		Long: `tour walks the ten checkpoints of the lab on the target. For each step it explains what
will happen and why, runs it with the same code as the verbs, waits for the state the lab
should reach (with live progress), then checks what a user should observe and prints ✓ or
✗ with what it saw. Enter runs the next step; the exit status is non-zero, naming the
checkpoint, when one is not met. On AWS it asks before each deploy unless --yes.

--chapters 11,12 runs the optional chapters past the ten steps instead: 11, the trap of an
Auto Scaling group that acts on the deep health check (type ELB), and 12, a zone losing
power (local lab; on AWS run fault zone-power --via fis).`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from < 1 || from > len(tour.Steps) {
				return fmt.Errorf("bad --from %d: the tour's steps are 1 to %d, e.g. labctl tour --from 7", from, len(tour.Steps))
			}
			if len(chapters) > 0 && cmd.Flags().Changed("from") {
				return errors.New("--from picks a step of the ten, --chapters the chapters past them: give one of the two")
			}
			for _, n := range chapters {
				if n <= len(tour.Steps) || n > len(tour.Steps)+len(tour.Chapters) {
					return fmt.Errorf("bad --chapters %d: the chapters past the ten steps are %d to %d, e.g. labctl tour --chapters 11,12",
						n, len(tour.Steps)+1, len(tour.Steps)+len(tour.Chapters))
				}
			}
			var md io.Writer
			if transcript != "" {
				f, err := os.Create(transcript)
				if err != nil {
					return fmt.Errorf("transcript: %w", err)
				}
				defer f.Close()
				md = f
			}
			out := cmd.OutOrStdout()
			l, err := g.open(cmd, false)
			if err != nil {
				return err
			}
			resume := "labctl tour --from %d"
			if len(chapters) > 0 {
				resume = "labctl tour --chapters %d"
			}
			if l.T.Kind == target.AWS {
				resume = strings.Replace(resume, "labctl ", "labctl --target aws ", 1)
			}
			err = tour.Run(cmd.Context(), tourLab{l}, tour.Options{
				Out: out, Style: view.StyleFor(out, g.getenv), Live: view.IsTerminal(out),
				Yes: yes, From: from, AWS: l.T.Kind == target.AWS, Transcript: md,
				Prompt: tour.NewLinePrompter(cmd.InOrStdin(), out), Resume: resume, Chapters: chapters,
			})
			// Stopping with q is the user's choice, not a failure; the tour has said how
			// to resume.
			var stopped *tour.StoppedError
			if errors.As(err, &stopped) && !stopped.Interrupted {
				return nil
			}
			return err
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "run every step without waiting for Enter (and deploy on AWS without asking)")
	cmd.Flags().IntVar(&from, "from", 1, "start at this step (1-10), bringing the lab to its starting state first")
	cmd.Flags().StringVar(&transcript, "transcript", "", "write the run as Markdown to this file")
	cmd.Flags().IntSliceVar(&chapters, "chapters", nil, "run these chapters past the ten steps instead (11, 12), e.g. --chapters 11,12")
	return cmd
}

// tourLab gives the tour the verbs' own operations (package labops).
type tourLab struct{ l *labops.Lab }

func (t tourLab) Describe() string { return t.l.Describe() }

func (t tourLab) Status(ctx context.Context) (view.Status, error) {
	st, err := t.l.Status(ctx)
	return statusView(st), err
}

func (t tourLab) Sample(ctx context.Context, n int) (view.Sample, error) {
	sm, err := t.l.Sample(ctx, n)
	return sampleView(sm), err
}

func (t tourLab) SetDependency(ctx context.Context, on bool) error {
	_, err := t.l.SetDependency(ctx, on)
	return err
}

func (t tourLab) StaleCredentials(ctx context.Context, letter string) error {
	_, err := t.l.StaleCredentials(ctx, letter)
	return err
}

func (t tourLab) Repair(ctx context.Context, letter string, progress func(string)) error {
	return t.l.Repair(ctx, letter, labops.DefaultTimeout, progress)
}

func (t tourLab) Deploy(ctx context.Context, code lab.ServerCode, hc lab.AsgHealthCheck, progress func(string)) error {
	return t.l.DeployWith(ctx, code, hc, progress)
}

func (t tourLab) ZonePower(ctx context.Context, letter string, d time.Duration) error {
	_, err := t.l.ZonePower(ctx, letter, d)
	return err
}

func (t tourLab) Reset(ctx context.Context, code lab.ServerCode, progress func(string)) error {
	return t.l.Reset(ctx, code, progress)
}

// ProbeHealthCheck asks the web site for /healthcheck n times, as the load balancer's
// checker would but through the load balancer, and notes which zone answered.
func (t tourLab) ProbeHealthCheck(ctx context.Context, n int) ([]tour.Probe, error) {
	st, err := t.l.Status(ctx)
	if err != nil {
		return nil, err
	}
	letter := map[string]string{}
	for _, tg := range st.Targets {
		letter[tg.Zone] = tg.Letter
	}
	url := strings.TrimRight(t.l.Output(lab.OutputWebsiteURL), "/") + lab.TargetGroupHealthCheck.Path
	client := &http.Client{Timeout: 10 * time.Second}
	var ps []tour.Probe
	for range n {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", url, err)
		}
		var hc struct {
			Healthy  bool `json:"healthy"`
			Metadata struct {
				Zone string `json:"availability_zone"`
			} `json:"metadata"`
		}
		err = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&hc)
		resp.Body.Close()
		p := tour.Probe{Letter: "?", Code: resp.StatusCode, Healthy: err == nil && hc.Healthy}
		if l := letter[hc.Metadata.Zone]; l != "" {
			p.Letter = l
		}
		ps = append(ps, p)
	}
	return ps, nil
}

func newResetCmd(g *globals) *cobra.Command {
	var code string
	cmd := &cobra.Command{
		Use:   "reset [--server-code basic]",
		Short: "Put the lab back to the start: " + lab.ParameterName + "=true, every role normal, one ServerCode (deployed only if needed), nothing restarted; then check that every target is healthy and the dependency answers",
		Args:  flagInstead("reset", "--server-code", "labctl reset --server-code %s"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			sc, err := lab.ParseServerCode(code)
			if err != nil {
				return err
			}
			l, err := g.open(cmd, false)
			if err != nil {
				return err
			}
			if err := l.Reset(cmd.Context(), sc, lineWriter(cmd.OutOrStdout())); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "the lab is back at the start with ServerCode %s\n", sc)
			return nil
		},
	}
	cmd.Flags().StringVar(&code, "server-code", string(lab.CodeBasic), "basic, errorhandling or healthcheck")
	return cmd
}
