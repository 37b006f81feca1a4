package region

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"healthchecklab/internal/labnames"
)

// identity holds the names, ids and ARNs the lab's resources carry in the AWS answers, made
// once per region so they look like a real deployment's.
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

func newIdentity(rng *rand.Rand, created time.Time, names labnames.Names) identity {
	hex := func(n int) string {
		const digits = "0123456789abcdef"
		b := make([]byte, n)
		for i := range b {
			b[i] = digits[rng.IntN(16)]
		}
		return string(b)
	}
	stackID := func(name string) string {
		return fmt.Sprintf("arn:aws:cloudformation:%s:%s:stack/%s/%s", Name, AccountID, name, uuid(rng))
	}
	id := identity{created: created}
	id.serviceStackID = stackID(names.ServiceStack())
	id.vpcStackID = stackID(names.VPCStack())
	id.groupName = names.ServiceStack() + "-WebTierGroup" + upperID(rng, 8) + "-" + upperID(rng, 12)
	id.groupARN = fmt.Sprintf("arn:aws:autoscaling:%s:%s:autoScalingGroup:%s:autoScalingGroupName/%s", Name, AccountID, uuid(rng), id.groupName)
	id.targetGroupName = "Health-WebTi-" + upperID(rng, 12)
	id.targetGroupARN = fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:targetgroup/%s/%s", Name, AccountID, id.targetGroupName, hex(16))
	id.loadBalancerName = "Health-WebTi-" + upperID(rng, 12)
	id.loadBalancerARN = fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:loadbalancer/app/%s/%s", Name, AccountID, id.loadBalancerName, hex(16))
	id.launchTemplateID = "lt-0" + hex(16)
	id.launchTemplateName = "HealthCheckLabWebTierLaunchTemplate" + upperID(rng, 8)
	id.vpcID = "vpc-0" + hex(16)
	id.securityGroupID = "sg-0" + hex(16)
	for range Letters {
		id.subnets = append(id.subnets, "subnet-0"+hex(16))
		id.publicSubnets = append(id.publicSubnets, "subnet-0"+hex(16))
	}
	return id
}

// ProfileARN is the ARN of the instance profile named like its role (the stack names both).
func ProfileARN(name string) string {
	return fmt.Sprintf("arn:aws:iam::%s:instance-profile/%s", AccountID, name)
}

// Roles are the two instance profiles of the stack, named like their roles: the normal one
// first, then the one without DynamoDB access.
func (r *Region) Roles() []string { return []string{r.cfg.Names.Role(), r.cfg.Names.NoDDBRole()} }

// profileNamed returns the role of the instance profile named name or with ARN arn.
func (r *Region) profileNamed(name, arn string) (string, bool) {
	for _, r := range r.Roles() {
		if name == r || arn == ProfileARN(r) {
			return r, true
		}
	}
	return "", false
}

// TargetGroupARN is the lab's target group.
func (r *Region) TargetGroupARN() string { return r.ids.targetGroupARN }

// GroupName is the lab's Auto Scaling group.
func (r *Region) GroupName() string { return r.ids.groupName }

// lbHost is the load balancer's address without its scheme (it has no DNS name).
func (r *Region) lbHost() string { return strings.TrimPrefix(r.cfg.LoadBalancerURL, "http://") }
