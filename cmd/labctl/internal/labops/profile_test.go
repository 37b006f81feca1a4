package labops

import (
	"context"
	"testing"
	"time"

	"healthchecklab/cmd/labctl/internal/actions"
	"healthchecklab/cmd/labctl/internal/target"
	"healthchecklab/internal/awslocal/awslocaltest"
	"healthchecklab/internal/awslocal/ec2"
	"healthchecklab/internal/awslocal/region"
	"healthchecklab/internal/lab"
)

// TestAttachProfileWaitsWhileAssociating: swapping an instance's profile back moments after
// a swap finds the new association still associating, which EC2 refuses to replace
// (IncorrectState); attachProfile waits for it to settle and then replaces it. The region
// model answers through the real EC2 wire format; its clock runs four times real time so
// that the association settles within a few polls.
func TestAttachProfileWaitsWhileAssociating(t *testing.T) {
	start := time.Now()
	clock := func() time.Time { return start.Add(4 * time.Since(start)) }
	cfg := region.LabConfig(clock, 7)
	cfg.LoadBalancerURL, cfg.TableName = "http://127.0.0.1:8080", "RecommendationService"
	r, err := region.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range r.Drain().Intents {
		if i.Kind == region.Launch {
			if err := r.Started(i.Instance); err != nil {
				t.Fatal(err)
			}
		}
	}
	e := awslocaltest.Serve(t, ec2.Service(r))
	awsCfg := e.UserConfig()
	l := &Lab{T: &target.Where{Kind: target.AWS, Stack: lab.ServiceStackName, Config: awsCfg}, A: actions.New(awsCfg)}
	id := r.Status()[0].ID
	normal, noDDB := r.Roles()[0], r.Roles()[1]
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := l.attachProfile(ctx, id, "a", noDDB); err != nil {
		t.Fatal(err)
	}
	if _, err := l.attachProfile(ctx, id, "a", normal); err != nil {
		t.Fatalf("swap back at once: %v", err)
	}
	if st := r.Status()[0]; st.Role != normal {
		t.Errorf("instance %s has profile %q, want %q", id, st.Role, normal)
	}
}
