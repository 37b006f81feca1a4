package locallab

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"healthchecklab/internal/awslocal"
	"healthchecklab/internal/awslocal/autoscaling"
	"healthchecklab/internal/awslocal/cloudformation"
	"healthchecklab/internal/awslocal/ec2"
	"healthchecklab/internal/awslocal/elbv2"
	"healthchecklab/internal/awslocal/query"
	"healthchecklab/internal/awslocal/region"
	"healthchecklab/internal/awslocal/sigv4"
	"healthchecklab/internal/lab"
	"healthchecklab/internal/labclient"
	"healthchecklab/internal/standin"
	"healthchecklab/internal/standin/dynalite"
	"healthchecklab/internal/standin/imds"
)

// AccountID is the account the local lab pretends to run in.
const AccountID = standin.AccountID

// hexID returns n random bytes in hex, for tokens.
func hexID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// tableARN and parameterARN name the resources the roles' policies grant.
func tableARN(name string) string {
	return fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", region.Name, AccountID, name)
}

func parameterARN(name string) string {
	return fmt.Sprintf("arn:aws:ssm:%s:%s:parameter/%s", region.Name, AccountID, strings.TrimPrefix(name, "/"))
}

// policy is what the stack's instance-role policies allow on the services the lab serves,
// built from the same action lists (package lab).
func (l *Lab) policy() awslocal.Policy {
	param := awslocal.Statement{Actions: lab.ParameterReadActions, Resources: []string{parameterARN(l.names.Parameter())}}
	read := awslocal.Statement{Actions: lab.RecommendationReadActions,
		Resources: []string{tableARN(dynalite.DefaultTableName), tableARN(lab.DecoyTableName)}}
	return awslocal.Policy{
		lab.RoleName(l.prefix):      {read, param},
		lab.NoDDBRoleName(l.prefix): {param},
	}
}

// newEndpoint builds the lab's AWS endpoint over its stand-ins and its region.
func (l *Lab) newEndpoint() *awslocal.Endpoint {
	return awslocal.New(awslocal.Options{
		Region: region.Name, Keys: l.keys, Policy: l.policy(),
		JSON: []*awslocal.JSONService{
			{
				TargetPrefix: "AmazonSSM.", SigningName: "ssm", ContentType: "application/x-amz-json-1.1",
				DeniedType: "AccessDeniedException", Handler: l.ssm,
				Resource: func(_ string, body []byte) string {
					if n := jsonField(body, "Name"); n != "" {
						return parameterARN(n)
					}
					return "*"
				},
			},
			{
				TargetPrefix: "DynamoDB_20120810.", SigningName: "dynamodb", ContentType: "application/x-amz-json-1.0",
				DeniedType: "com.amazon.coral.service#AccessDeniedException", Handler: l.ddbProxy,
				Resource: func(_ string, body []byte) string {
					if n := jsonField(body, "TableName"); n != "" {
						return tableARN(n)
					}
					return "*"
				},
			},
		},
		Query: []*query.Service{
			// EC2, Elastic Load Balancing, Auto Scaling and CloudFormation are the region's.
			cloudformation.Service(l.r),
			ec2.Service(l.r),
			elbv2.Service(l.r),
			autoscaling.Service(l.r),
		},
	})
}

// jsonField reads one top-level string field of a JSON request body.
func jsonField(body []byte, name string) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return ""
	}
	var s string
	if json.Unmarshal(m[name], &s) != nil {
		return ""
	}
	return s
}

// instanceCredentials is the IMDS stand-ins' credential source: each instance's session of
// its attached role gets its own key pair, known to the endpoint.
func (l *Lab) instanceCredentials(role, instanceID string) imds.Credentials {
	c := l.keys.ForRole(role, instanceID)
	return imds.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, Token: c.SessionToken}
}

// Endpoint is the URL of the lab's AWS endpoint (every service the lab serves).
func (l *Lab) Endpoint() string { return l.endpointURL }

// UserCredentials is the key pair of the lab's user, which may call every operation.
func (l *Lab) UserCredentials() sigv4.Credentials { return l.user }

// RoleCredentials returns a session (named labclient.UserName) of each instance role, by role name.
func (l *Lab) RoleCredentials() map[string]labclient.RoleCredentials {
	out := map[string]labclient.RoleCredentials{}
	for _, role := range []string{lab.RoleName(l.prefix), lab.NoDDBRoleName(l.prefix)} {
		c := l.keys.ForRole(role, labclient.UserName)
		out[role] = labclient.RoleCredentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}
	}
	return out
}
