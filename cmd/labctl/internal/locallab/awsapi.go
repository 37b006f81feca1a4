package locallab

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"healthchecklab/internal/awslocal"
	"healthchecklab/internal/awslocal/autoscaling"
	"healthchecklab/internal/awslocal/cloudformation"
	"healthchecklab/internal/awslocal/ec2"
	"healthchecklab/internal/awslocal/elbv2"
	"healthchecklab/internal/awslocal/query"
	"healthchecklab/internal/awslocal/sigv4"
	"healthchecklab/internal/lab"
	"healthchecklab/internal/labnames"
	"healthchecklab/internal/standin"
	"healthchecklab/internal/standin/dynalite"
	"healthchecklab/internal/standin/imds"
)

// AccountID is the account the local lab pretends to run in.
const AccountID = standin.AccountID

// UserName is the IAM user whose key pair `labctl local env` hands out.
const UserName = "labctl"

// identity holds the names, ids and ARNs the lab's resources carry in the AWS API answers,
// made once per lab so they look like a real deployment's.
type identity struct {
	created            time.Time
	serviceStackID     string
	vpcStackID         string
	groupName          string
	groupARN           string
	targetGroupName    string
	targetGroupARN     string
	loadBalancerName   string
	loadBalancerARN    string
	launchTemplateID   string
	launchTemplateName string
	vpcID              string
	securityGroupID    string
	subnets            []string // one private subnet per zone, in Letters order
	publicSubnets      []string // the load balancer's, in Letters order
}

func newIdentity(names labnames.Names) identity {
	id := identity{created: time.Now().UTC()}
	id.serviceStackID = stackID(names.ServiceStack())
	id.vpcStackID = stackID(names.VPCStack())
	id.groupName = names.ServiceStack() + "-WebTierGroup" + upperID(8) + "-" + upperID(12)
	id.groupARN = fmt.Sprintf("arn:aws:autoscaling:%s:%s:autoScalingGroup:%s:autoScalingGroupName/%s", Region, AccountID, uuid(), id.groupName)
	id.targetGroupName = "Health-WebTi-" + upperID(12)
	id.targetGroupARN = fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:targetgroup/%s/%s", Region, AccountID, id.targetGroupName, hexID(8))
	id.loadBalancerName = "Health-WebTi-" + upperID(12)
	id.loadBalancerARN = fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:loadbalancer/app/%s/%s", Region, AccountID, id.loadBalancerName, hexID(8))
	id.launchTemplateID = "lt-0" + hexID(8)[:16]
	id.launchTemplateName = "HealthCheckLabWebTierLaunchTemplate" + upperID(8)
	id.vpcID = "vpc-0" + hexID(8)[:16]
	id.securityGroupID = "sg-0" + hexID(8)[:16]
	for range Letters {
		id.subnets = append(id.subnets, "subnet-0"+hexID(8)[:16])
		id.publicSubnets = append(id.publicSubnets, "subnet-0"+hexID(8)[:16])
	}
	return id
}

func stackID(name string) string {
	return fmt.Sprintf("arn:aws:cloudformation:%s:%s:stack/%s/%s", Region, AccountID, name, uuid())
}

func hexID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func upperID(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func uuid() string {
	h := hexID(16)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// profileARN is the ARN of the instance profile named like its role (as the stack names both).
func profileARN(name string) string {
	return fmt.Sprintf("arn:aws:iam::%s:instance-profile/%s", AccountID, name)
}

func tableARN(name string) string {
	return fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", Region, AccountID, name)
}

func parameterARN(name string) string {
	return fmt.Sprintf("arn:aws:ssm:%s:%s:parameter/%s", Region, AccountID, strings.TrimPrefix(name, "/"))
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

// newEndpoint builds the lab's AWS endpoint over its stand-ins and state.
func (l *Lab) newEndpoint() *awslocal.Endpoint {
	return awslocal.New(awslocal.Options{
		Region: Region, Keys: l.keys, Policy: l.policy(),
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
			cloudformation.Service(cfnBackend{l}),
			ec2.Service(ec2Backend{l}),
			elbv2.Service(elbBackend{l}),
			autoscaling.Service(asgBackend{l}),
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

// RoleCredentials returns a session (named UserName) of each instance role, by role name.
func (l *Lab) RoleCredentials() map[string]RoleCredentials {
	out := map[string]RoleCredentials{}
	for _, role := range []string{lab.RoleName(l.prefix), lab.NoDDBRoleName(l.prefix)} {
		c := l.keys.ForRole(role, UserName)
		out[role] = RoleCredentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}
	}
	return out
}

// cfnBackend answers DescribeStacks from the lab.
type cfnBackend struct{ l *Lab }

func (b cfnBackend) Stacks() []cloudformation.Stack {
	l := b.l
	l.mu.Lock()
	status, updated := l.stackStatus, l.stackUpdated
	l.mu.Unlock()
	stacks := []cloudformation.Stack{
		{
			Name: l.names.VPCStack(), ID: l.ids.vpcStackID, Status: "CREATE_COMPLETE", Created: l.ids.created,
		},
		{
			Name: l.names.ServiceStack(), ID: l.ids.serviceStackID, Status: status, Created: l.ids.created, Updated: updated,
			Outputs: []cloudformation.Output{
				{Key: lab.OutputWebsiteURL, Value: l.lbURL},
				{Key: lab.OutputHealthCheckURL, Value: l.lbURL + l.hc.Path},
				{Key: lab.OutputTargetGroupArn, Value: l.ids.targetGroupARN},
				{Key: lab.OutputAutoScalingGroupName, Value: l.ids.groupName},
				{Key: lab.OutputParameterName, Value: l.names.Parameter()},
				{Key: lab.OutputNoDDBProfileName, Value: lab.NoDDBRoleName(l.prefix)},
				{Key: lab.OutputInstanceProfileName, Value: lab.RoleName(l.prefix)},
				{Key: lab.OutputTableName, Value: dynalite.DefaultTableName},
			},
		},
	}
	if l.names.LabID != "" { // as the stack declares it: only on a copy with an id
		stacks[1].Outputs = append(stacks[1].Outputs, cloudformation.Output{Key: labnames.OutputLabID, Value: l.names.LabID})
	}
	return stacks
}
