// Package cloudformation speaks CloudFormation's Query protocol for the one call the lab
// makes: DescribeStacks, over the stacks the local lab pretends to have deployed.
package cloudformation

import (
	"context"
	"net/http"
	"time"

	"healthchecklab/internal/awslocal/query"
)

// Stack is a deployed stack as DescribeStacks shows it.
type Stack struct {
	Name        string
	ID          string // arn:aws:cloudformation:<region>:<account>:stack/<name>/<uuid>
	Description string
	Status      string // CREATE_COMPLETE, UPDATE_IN_PROGRESS, UPDATE_COMPLETE, …
	Created     time.Time
	Updated     time.Time // zero: never updated
	Outputs     []Output
}

// Output is one stack output.
type Output struct {
	Key, Value, Description string
}

// Backend is the state the service answers from.
type Backend interface {
	Stacks() []Stack
}

// Service returns CloudFormation's wire format over b.
func Service(b Backend) *query.Service {
	s := &query.Service{
		SigningName: "cloudformation",
		Version:     "2010-05-15",
		Namespace:   "http://cloudformation.amazonaws.com/doc/2010-05-15/",
	}
	s.Actions = map[string]query.Action{
		"DescribeStacks": func(_ context.Context, p query.Params) (any, error) { return describeStacks(b, p) },
	}
	return s
}

type describeStacksResult struct {
	Stacks    []stack `xml:"Stacks>member"`
	NextToken string  `xml:"NextToken,omitempty"`
}

type stack struct {
	StackID                     string   `xml:"StackId"`
	StackName                   string   `xml:"StackName"`
	Description                 string   `xml:"Description,omitempty"`
	CreationTime                string   `xml:"CreationTime"`
	LastUpdatedTime             string   `xml:"LastUpdatedTime,omitempty"`
	StackStatus                 string   `xml:"StackStatus"`
	DisableRollback             bool     `xml:"DisableRollback"`
	Outputs                     []output `xml:"Outputs>member"`
	EnableTerminationProtection bool     `xml:"EnableTerminationProtection"`
	DriftStatus                 string   `xml:"DriftInformation>StackDriftStatus"`
}

type output struct {
	OutputKey   string `xml:"OutputKey"`
	OutputValue string `xml:"OutputValue"`
	Description string `xml:"Description,omitempty"`
}

func describeStacks(b Backend, p query.Params) (any, error) {
	all := b.Stacks()
	var picked []Stack
	if name := p.Get("StackName"); name != "" {
		for _, s := range all {
			if s.Name == name || s.ID == name {
				picked = append(picked, s)
			}
		}
		if len(picked) == 0 {
			return nil, query.Errorf(http.StatusBadRequest, "ValidationError", "Stack with id %s does not exist", name)
		}
	} else {
		picked = all
	}
	start, end, next, ok := query.Page(len(picked), p.Get("NextToken"), 0)
	if !ok {
		return nil, query.Errorf(http.StatusBadRequest, "ValidationError", "Invalid NextToken")
	}
	res := describeStacksResult{NextToken: next, Stacks: []stack{}}
	for _, s := range picked[start:end] {
		out := stack{
			StackID: s.ID, StackName: s.Name, Description: s.Description, StackStatus: s.Status,
			CreationTime: query.Time(s.Created), DriftStatus: "NOT_CHECKED",
		}
		if !s.Updated.IsZero() {
			out.LastUpdatedTime = query.Time(s.Updated)
		}
		for _, o := range s.Outputs {
			out.Outputs = append(out.Outputs, output{o.Key, o.Value, o.Description})
		}
		res.Stacks = append(res.Stacks, out)
	}
	return res, nil
}
