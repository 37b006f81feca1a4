// Package ec2 speaks EC2's dialect of the Query protocol for the calls the lab makes:
// DescribeInstances, DescribeAvailabilityZones, DescribeIamInstanceProfileAssociations,
// ReplaceIamInstanceProfileAssociation and TerminateInstances, with EC2's filters, paging and
// error codes, over the instances a Backend holds.
package ec2

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"healthchecklab/internal/awslocal/query"
)

// Instance states, with EC2's state codes.
const (
	StatePending      = "pending"
	StateRunning      = "running"
	StateShuttingDown = "shutting-down"
	StateTerminated   = "terminated"
)

var stateCodes = map[string]int{StatePending: 0, StateRunning: 16, StateShuttingDown: 32, StateTerminated: 48, "stopping": 64, "stopped": 80}

// Instance is one instance as DescribeInstances shows it.
type Instance struct {
	ID, ImageID, Type, Architecture string
	OwnerID                         string // the account
	Zone                            string
	State                           string
	PrivateIP, PrivateDNS           string
	SubnetID, VpcID                 string
	LaunchTime                      time.Time
	Profile                         *Profile // the associated instance profile, if any
	Tags                            []Tag
}

// Profile is an instance profile.
type Profile struct {
	ARN, ID string
}

// Tag is a resource tag.
type Tag struct {
	Key, Value string
}

// Zone is an Availability Zone.
type Zone struct {
	Name, ID, Region string
}

// Association is an instance profile association.
type Association struct {
	ID         string
	InstanceID string
	Profile    Profile
	State      string // associating, associated, disassociating, disassociated
	Timestamp  time.Time
}

// StateChange is one instance's state change after TerminateInstances.
type StateChange struct {
	ID                string
	Previous, Current string
}

// Backend is the state EC2 answers from and acts on. Its errors are *query.Error values
// with EC2's codes.
type Backend interface {
	Instances() []Instance
	Zones() []Zone
	Associations() []Association
	// ReplaceAssociation attaches the profile named by name or arn (one is empty) in place of
	// the association's profile, and returns the new association.
	ReplaceAssociation(associationID, name, arn string) (Association, error)
	// Terminate starts terminating the instances; each one must exist.
	Terminate(ids []string) ([]StateChange, error)
}

// Service returns EC2's wire format over b.
func Service(b Backend) *query.Service {
	s := &query.Service{SigningName: "ec2", Version: "2016-11-15", Namespace: query.EC2Namespace, EC2: true}
	h := handlers{b: b, s: s}
	s.Actions = map[string]query.Action{
		"DescribeInstances":                      h.describeInstances,
		"DescribeAvailabilityZones":              h.describeAvailabilityZones,
		"DescribeIamInstanceProfileAssociations": h.describeAssociations,
		"ReplaceIamInstanceProfileAssociation":   h.replaceAssociation,
		"TerminateInstances":                     h.terminateInstances,
	}
	return s
}

type handlers struct {
	b Backend
	s *query.Service
}

// XML shapes, named as EC2 names the elements.

type describeInstancesResponse struct {
	query.EC2Response
	Reservations []reservation `xml:"reservationSet>item"`
	NextToken    string        `xml:"nextToken,omitempty"`
}

type reservation struct {
	ReservationID string        `xml:"reservationId"`
	OwnerID       string        `xml:"ownerId"`
	Instances     []instanceXML `xml:"instancesSet>item"`
}

type instanceXML struct {
	InstanceID       string      `xml:"instanceId"`
	ImageID          string      `xml:"imageId"`
	State            stateXML    `xml:"instanceState"`
	PrivateDNSName   string      `xml:"privateDnsName"`
	DNSName          string      `xml:"dnsName"`
	InstanceType     string      `xml:"instanceType"`
	LaunchTime       string      `xml:"launchTime"`
	Placement        placement   `xml:"placement"`
	SubnetID         string      `xml:"subnetId,omitempty"`
	VpcID            string      `xml:"vpcId,omitempty"`
	PrivateIPAddress string      `xml:"privateIpAddress,omitempty"`
	Architecture     string      `xml:"architecture"`
	Profile          *profileXML `xml:"iamInstanceProfile,omitempty"`
	Tags             []tagXML    `xml:"tagSet>item"`
}

type stateXML struct {
	Code int    `xml:"code"`
	Name string `xml:"name"`
}

type placement struct {
	AvailabilityZone string `xml:"availabilityZone"`
	Tenancy          string `xml:"tenancy"`
}

type profileXML struct {
	ARN string `xml:"arn"`
	ID  string `xml:"id"`
}

type tagXML struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

func state(name string) stateXML { return stateXML{Code: stateCodes[name], Name: name} }

var instanceIDPattern = regexp.MustCompile(`^i-[0-9a-f]{8}([0-9a-f]{9})?$`)

// pageSize reads MaxResults (5 to 1000, as EC2 allows); 0 when absent.
func pageSize(p query.Params) (int, error) {
	if !p.Has("MaxResults") {
		return 0, nil
	}
	n, ok := p.Int("MaxResults", 0)
	if !ok || n < 5 || n > 1000 {
		return 0, query.Errorf(http.StatusBadRequest, "InvalidParameterValue",
			"Value ( %s ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.", p.Get("MaxResults"))
	}
	return n, nil
}

func page(n int, p query.Params) (start, end int, next string, err error) {
	size, err := pageSize(p)
	if err != nil {
		return 0, 0, "", err
	}
	start, end, next, ok := query.Page(n, p.Get("NextToken"), size)
	if !ok {
		return 0, 0, "", query.Errorf(http.StatusBadRequest, "InvalidParameterValue", "Invalid value '%s' for nextToken", p.Get("NextToken"))
	}
	return start, end, next, nil
}

// checkIDs answers InvalidInstanceID.Malformed or .NotFound for ids not among known.
func checkIDs(ids []string, known map[string]bool) error {
	var missing []string
	for _, id := range ids {
		if !instanceIDPattern.MatchString(id) {
			return query.Errorf(http.StatusBadRequest, "InvalidInstanceID.Malformed", "Invalid id: %q", id)
		}
		if !known[id] {
			missing = append(missing, id)
		}
	}
	switch len(missing) {
	case 0:
		return nil
	case 1:
		return query.Errorf(http.StatusBadRequest, "InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", missing[0])
	default:
		return query.Errorf(http.StatusBadRequest, "InvalidInstanceID.NotFound", "The instance IDs '%s' do not exist", strings.Join(missing, ", "))
	}
}

func invalidFilter(name string) error {
	return query.Errorf(http.StatusBadRequest, "InvalidParameterValue", "The filter '%s' is invalid", name)
}

func (h handlers) describeInstances(_ context.Context, p query.Params) (any, error) {
	ids := p.List("InstanceId")
	if len(ids) > 0 && p.Has("MaxResults") {
		return nil, query.Errorf(http.StatusBadRequest, "InvalidParameterCombination", "The parameter instancesSet cannot be used with the parameter maxResults")
	}
	all := h.b.Instances()
	sort.SliceStable(all, func(i, j int) bool {
		if !all[i].LaunchTime.Equal(all[j].LaunchTime) {
			return all[i].LaunchTime.Before(all[j].LaunchTime)
		}
		return all[i].ID < all[j].ID
	})
	known := map[string]bool{}
	for _, in := range all {
		known[in.ID] = true
	}
	if err := checkIDs(ids, known); err != nil {
		return nil, err
	}
	filters := p.Filters()
	for _, f := range filters {
		switch {
		case f.Name == "instance-id", f.Name == "instance-state-name", f.Name == "availability-zone",
			f.Name == "tag-key", f.Name == "iam-instance-profile.arn", strings.HasPrefix(f.Name, "tag:"):
		default:
			return nil, invalidFilter(f.Name)
		}
	}
	var picked []Instance
	for _, in := range all {
		if len(ids) > 0 && !slices.Contains(ids, in.ID) {
			continue
		}
		if matchesAll(filters, func(f query.Filter) bool { return instanceMatches(in, f) }) {
			picked = append(picked, in)
		}
	}
	start, end, next, err := page(len(picked), p)
	if err != nil {
		return nil, err
	}
	res := &describeInstancesResponse{NextToken: next, Reservations: []reservation{}}
	for _, in := range picked[start:end] {
		x := instanceXML{
			InstanceID: in.ID, ImageID: in.ImageID, State: state(in.State), PrivateDNSName: in.PrivateDNS,
			InstanceType: in.Type, LaunchTime: query.Time(in.LaunchTime), Architecture: in.Architecture,
			Placement: placement{AvailabilityZone: in.Zone, Tenancy: "default"},
			SubnetID:  in.SubnetID, VpcID: in.VpcID, PrivateIPAddress: in.PrivateIP,
		}
		if in.Profile != nil {
			x.Profile = &profileXML{ARN: in.Profile.ARN, ID: in.Profile.ID}
		}
		for _, t := range in.Tags {
			x.Tags = append(x.Tags, tagXML(t))
		}
		res.Reservations = append(res.Reservations, reservation{
			ReservationID: "r-" + strings.TrimPrefix(in.ID, "i-"), OwnerID: in.OwnerID, Instances: []instanceXML{x},
		})
	}
	return res, nil
}

func instanceMatches(in Instance, f query.Filter) bool {
	switch {
	case f.Name == "instance-id":
		return f.Match(in.ID)
	case f.Name == "instance-state-name":
		return f.Match(in.State)
	case f.Name == "availability-zone":
		return f.Match(in.Zone)
	case f.Name == "iam-instance-profile.arn":
		return in.Profile != nil && f.Match(in.Profile.ARN)
	case f.Name == "tag-key":
		for _, t := range in.Tags {
			if f.Match(t.Key) {
				return true
			}
		}
	case strings.HasPrefix(f.Name, "tag:"):
		key := strings.TrimPrefix(f.Name, "tag:")
		for _, t := range in.Tags {
			if t.Key == key && f.Match(t.Value) {
				return true
			}
		}
	}
	return false
}

func matchesAll(filters []query.Filter, match func(query.Filter) bool) bool {
	for _, f := range filters {
		if !match(f) {
			return false
		}
	}
	return true
}

type describeZonesResponse struct {
	query.EC2Response
	Zones []zoneXML `xml:"availabilityZoneInfo>item"`
}

type zoneXML struct {
	OptInStatus        string `xml:"optInStatus"`
	GroupName          string `xml:"groupName"`
	NetworkBorderGroup string `xml:"networkBorderGroup"`
	ZoneType           string `xml:"zoneType"`
	ZoneName           string `xml:"zoneName"`
	ZoneID             string `xml:"zoneId"`
	State              string `xml:"zoneState"`
	RegionName         string `xml:"regionName"`
}

func (h handlers) describeAvailabilityZones(_ context.Context, p query.Params) (any, error) {
	names := p.List("ZoneName")
	filters := p.Filters()
	for _, f := range filters {
		switch f.Name {
		case "zone-name", "zone-id", "state", "region-name", "zone-type":
		default:
			return nil, invalidFilter(f.Name)
		}
	}
	zones := h.b.Zones()
	for _, n := range names {
		found := false
		for _, z := range zones {
			found = found || z.Name == n
		}
		if !found {
			return nil, query.Errorf(http.StatusBadRequest, "InvalidParameterValue", "The zone '%s' does not exist.", n)
		}
	}
	res := &describeZonesResponse{Zones: []zoneXML{}}
	for _, z := range zones {
		if len(names) > 0 && !slices.Contains(names, z.Name) {
			continue
		}
		ok := matchesAll(filters, func(f query.Filter) bool {
			switch f.Name {
			case "zone-name":
				return f.Match(z.Name)
			case "zone-id":
				return f.Match(z.ID)
			case "state":
				return f.Match("available")
			case "region-name":
				return f.Match(z.Region)
			default:
				return f.Match("availability-zone")
			}
		})
		if ok {
			res.Zones = append(res.Zones, zoneXML{
				OptInStatus: "opt-in-not-required", GroupName: z.Region, NetworkBorderGroup: z.Region,
				ZoneType: "availability-zone", ZoneName: z.Name, ZoneID: z.ID, State: "available", RegionName: z.Region,
			})
		}
	}
	return res, nil
}

type associationXML struct {
	AssociationID string     `xml:"associationId"`
	InstanceID    string     `xml:"instanceId"`
	Profile       profileXML `xml:"iamInstanceProfile"`
	State         string     `xml:"state"`
	Timestamp     string     `xml:"timestamp"`
}

func associationOut(a Association) associationXML {
	return associationXML{
		AssociationID: a.ID, InstanceID: a.InstanceID, Profile: profileXML{ARN: a.Profile.ARN, ID: a.Profile.ID},
		State: a.State, Timestamp: query.Time(a.Timestamp),
	}
}

type describeAssociationsResponse struct {
	query.EC2Response
	Associations []associationXML `xml:"iamInstanceProfileAssociationSet>item"`
	NextToken    string           `xml:"nextToken,omitempty"`
}

func (h handlers) describeAssociations(_ context.Context, p query.Params) (any, error) {
	ids := p.List("AssociationId")
	if len(ids) > 0 && p.Has("MaxResults") {
		return nil, query.Errorf(http.StatusBadRequest, "InvalidParameterCombination", "The parameter AssociationIds cannot be used with the parameter maxResults")
	}
	filters := p.Filters()
	for _, f := range filters {
		if f.Name != "instance-id" && f.Name != "state" {
			return nil, invalidFilter(f.Name)
		}
	}
	all := h.b.Associations()
	for _, id := range ids {
		found := false
		for _, a := range all {
			found = found || a.ID == id
		}
		if !found {
			return nil, AssociationNotFound(id)
		}
	}
	var picked []Association
	for _, a := range all {
		if len(ids) > 0 && !slices.Contains(ids, a.ID) {
			continue
		}
		ok := matchesAll(filters, func(f query.Filter) bool {
			if f.Name == "instance-id" {
				return f.Match(a.InstanceID)
			}
			return f.Match(a.State)
		})
		if ok {
			picked = append(picked, a)
		}
	}
	start, end, next, err := page(len(picked), p)
	if err != nil {
		return nil, err
	}
	res := &describeAssociationsResponse{NextToken: next, Associations: []associationXML{}}
	for _, a := range picked[start:end] {
		res.Associations = append(res.Associations, associationOut(a))
	}
	return res, nil
}

type replaceAssociationResponse struct {
	query.EC2Response
	Association associationXML `xml:"iamInstanceProfileAssociation"`
}

func (h handlers) replaceAssociation(_ context.Context, p query.Params) (any, error) {
	id := p.Get("AssociationId")
	if id == "" {
		return nil, h.s.Missing("AssociationId")
	}
	name, arn := p.Get("IamInstanceProfile.Name"), p.Get("IamInstanceProfile.Arn")
	if name == "" && arn == "" {
		return nil, h.s.Missing("IamInstanceProfile")
	}
	if name != "" && arn != "" {
		return nil, query.Errorf(http.StatusBadRequest, "InvalidParameterCombination", "The parameter 'iamInstanceProfile.name' may not be used in combination with 'iamInstanceProfile.arn'")
	}
	a, err := h.b.ReplaceAssociation(id, name, arn)
	if err != nil {
		return nil, err
	}
	out := associationOut(a)
	// EC2 answers while the new association is still being made.
	out.State = "associating"
	return &replaceAssociationResponse{Association: out}, nil
}

type terminateResponse struct {
	query.EC2Response
	Instances []stateChangeXML `xml:"instancesSet>item"`
}

type stateChangeXML struct {
	InstanceID    string   `xml:"instanceId"`
	CurrentState  stateXML `xml:"currentState"`
	PreviousState stateXML `xml:"previousState"`
}

func (h handlers) terminateInstances(_ context.Context, p query.Params) (any, error) {
	ids := p.List("InstanceId")
	if len(ids) == 0 {
		return nil, h.s.Missing("InstanceId")
	}
	for _, id := range ids {
		if !instanceIDPattern.MatchString(id) {
			return nil, query.Errorf(http.StatusBadRequest, "InvalidInstanceID.Malformed", "Invalid id: %q", id)
		}
	}
	changes, err := h.b.Terminate(ids)
	if err != nil {
		return nil, err
	}
	res := &terminateResponse{}
	for _, c := range changes {
		res.Instances = append(res.Instances, stateChangeXML{InstanceID: c.ID, CurrentState: state(c.Current), PreviousState: state(c.Previous)})
	}
	return res, nil
}

// NotFound is the error a Backend returns for instance ids it does not know.
func NotFound(ids []string, known map[string]bool) error { return checkIDs(ids, known) }

// ProfileNotFound is the error for a profile name or ARN that names no instance profile.
func ProfileNotFound(name, arn string) error {
	if arn != "" {
		return query.Errorf(http.StatusBadRequest, "InvalidParameterValue", "Value (%s) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN", arn)
	}
	return query.Errorf(http.StatusBadRequest, "InvalidParameterValue", "Value (%s) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name", name)
}

// AssociationNotFound is the error for an unknown association id.
func AssociationNotFound(id string) error {
	return query.Errorf(http.StatusBadRequest, "InvalidAssociationID.NotFound", "An association with ID '%s' does not exist", id)
}

// IncorrectState is the error for an association that is not (or no longer) associated.
func IncorrectState(id, state string) error {
	return query.Errorf(http.StatusBadRequest, "IncorrectState", "The association %s is not in a valid state (%s) for this operation", id, state)
}

// IncorrectInstanceState is the error for an action on an instance in a state that does not
// allow it (ReplaceIamInstanceProfileAssociation wants a running instance).
func IncorrectInstanceState(id, state string) error {
	return query.Errorf(http.StatusBadRequest, "IncorrectInstanceState", "The instance '%s' is not in a valid state for this operation (%s)", id, state)
}
