package awslocal_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"healthchecklab/internal/lab"
)

// BenchmarkGetParameter measures what the endpoint adds to a call (SigV4 verification, the
// role's policy, dispatch): the SDK's GetParameter as an instance role, straight to the
// Parameter Store stand-in and through the endpoint, from parallel clients.
func BenchmarkGetParameter(b *testing.B) {
	f := newFixture(b)
	role := f.config(f.keys.ForRole(normalRole, "i-0123456789abcdef0"))
	direct := httptest.NewServer(f.ssm)
	b.Cleanup(direct.Close)
	for name, url := range map[string]string{"direct": direct.URL, "endpoint": f.url} {
		b.Run(name, func(b *testing.B) {
			cfg := role.Copy()
			cfg.BaseEndpoint = aws.String(url)
			c := ssm.NewFromConfig(cfg)
			in := &ssm.GetParameterInput{Name: aws.String(lab.ParameterName)}
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := c.GetParameter(context.Background(), in); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
