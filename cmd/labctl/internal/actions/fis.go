package actions

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/fis"
	fistypes "github.com/aws/aws-sdk-go-v2/service/fis/types"
)

// Experiment is what labctl follows of an AWS FIS experiment.
type Experiment struct {
	ID         string
	TemplateID string
	// Status is FIS's: pending, initiating, running, completed, stopping, stopped, failed
	// or cancelled; Reason says why, when FIS gives one.
	Status, Reason string
	// Actions are the experiment's actions by name.
	Actions map[string]ExperimentAction
}

// ExperimentAction is the state of one action of an experiment.
type ExperimentAction struct {
	ActionID       string // e.g. aws:network:disrupt-connectivity
	Status, Reason string
}

// Ended reports whether the experiment reached a final state.
func (e Experiment) Ended() bool {
	switch fistypes.ExperimentStatus(e.Status) {
	case fistypes.ExperimentStatusCompleted, fistypes.ExperimentStatusStopped,
		fistypes.ExperimentStatusFailed, fistypes.ExperimentStatusCancelled:
		return true
	}
	return false
}

// StartExperiment starts an experiment from a template. The client token makes a retried
// call start one experiment, not two.
func (a *Actions) StartExperiment(ctx context.Context, templateID, clientToken string) (Experiment, error) {
	out, err := a.FIS.StartExperiment(ctx, &fis.StartExperimentInput{
		ExperimentTemplateId: aws.String(templateID),
		ClientToken:          aws.String(clientToken),
		Tags:                 map[string]string{"startedBy": "labctl"},
	})
	if err != nil {
		return Experiment{}, err
	}
	return experimentFrom(out.Experiment)
}

// GetExperiment reads an experiment's state.
func (a *Actions) GetExperiment(ctx context.Context, id string) (Experiment, error) {
	out, err := a.FIS.GetExperiment(ctx, &fis.GetExperimentInput{Id: aws.String(id)})
	if err != nil {
		return Experiment{}, err
	}
	return experimentFrom(out.Experiment)
}

func experimentFrom(e *fistypes.Experiment) (Experiment, error) {
	if e == nil || e.Id == nil {
		return Experiment{}, fmt.Errorf("FIS answered without an experiment")
	}
	x := Experiment{ID: aws.ToString(e.Id), TemplateID: aws.ToString(e.ExperimentTemplateId), Actions: map[string]ExperimentAction{}}
	if e.State != nil {
		x.Status, x.Reason = string(e.State.Status), aws.ToString(e.State.Reason)
		if e.State.Error != nil && e.State.Error.Code != nil && x.Reason == "" {
			x.Reason = aws.ToString(e.State.Error.Code)
		}
	}
	for name, act := range e.Actions {
		ea := ExperimentAction{ActionID: aws.ToString(act.ActionId)}
		if act.State != nil {
			ea.Status, ea.Reason = string(act.State.Status), aws.ToString(act.State.Reason)
		}
		x.Actions[name] = ea
	}
	return x, nil
}
