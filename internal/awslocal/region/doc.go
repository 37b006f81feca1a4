package region

// Driving the model (what a shell does):
//
//   - Create it with New(LabConfig(time.Now, seed)), setting LoadBalancerURL and TableName
//     (and Names for a copy with a LabId).
//     Serve its AWS side with ec2.Service(r), elbv2.Service(r), autoscaling.Service(r) and
//     cloudformation.Service(r); run the load balancer with localb.Options{Health: r}, so
//     that health checks go into the model and routing comes out of it.
//   - Loop: call Tick now and then, Drain the outbox, print its Notes and carry out its
//     Intents: Launch (start the metadata service and web server of LaunchSpec, then report
//     Started or LaunchFailed), SetRole (the metadata service's role), Register, Deregister
//     and Remove (the load balancer's Register, Deregister and Remove), Stop (stop the
//     processes, then report Stopped; report Stopped also when they exit on their own).
//   - Deploy(code) starts a rolling update; Operation follows it until it returns nil, and
//     Stacks tells how it ended. Status is the live view of every instance.
//   - Chapter 11's trap is SetHealthCheck(ELB, grace) (a stack update of the group's
//     health-check type); Activities lists each replacement as Auto Scaling's scaling
//     activities do. Chapter 12's fault is PowerOff(zone) and, after its window, PowerOn(zone).
//
// regiontest.Shell does all of this instantly on a fake clock, for tests.

// Where this model and AWS's documentation meet, and where they part.
//
// Rules that follow the documentation and differ from what the local lab (package locallab)
// did before it ran on this model:
//
//   - A newly registered target turns healthy after one passing check, not HealthyThreshold
//     (ELB user guide, "Health checks for Application Load Balancer target groups": "After
//     your target is registered, it must pass one health check to be considered healthy").
//     An unhealthy target still needs HealthyThreshold passes.
//   - TerminateInstances terminates a pending instance too (shutting-down, then terminated;
//     EC2 user guide, "Amazon EC2 instance state changes"); the lab used to answer 200 and
//     leave it running.
//   - ReplaceIamInstanceProfileAssociation keeps the old association, disassociating then
//     disassociated, and the new one is associating then associated (EC2 API reference,
//     IamInstanceProfileAssociation); the lab used to drop the old one and report the new
//     one associated at once. Each state lasts AssociationDelay. The instance must be running
//     ("for the specified running instance"): IncorrectInstanceState otherwise.
//   - The minimum-size refusal of TerminateInstanceInAutoScalingGroup with
//     ShouldDecrementDesiredCapacity compares the desired capacity with the minimum size, as
//     AWS's own error says ("Currently, desiredSize equals minSize"); the lab compared the
//     number of zones with the minimum and so refused even a group above its minimum.
//   - A replacement launches after the instance it replaces has been terminated (EC2 Auto
//     Scaling user guide, "Replace unhealthy instances": terminate, then "Later, another
//     scaling activity launches a new instance"); the lab launched it while the old target
//     drained, so a zone now stays empty for the deregistration delay longer.
//   - DescribeTargetHealth answers InvalidTarget for a named target that is no instance at
//     all, and unused / Target.NotRegistered only for an instance that is not registered
//     (ELB API reference, DescribeTargetHealth and TargetHealth).
//   - Terminated instances stay listed for TerminatedVisible, an hour, as TerminateInstances
//     says; the lab kept the last 50 for its lifetime.
//   - A launch that fails is retried after LaunchRetryDelay, in the same zone; the lab tried
//     three times at once and then gave up.
//
// Deliberate differences that remain (the README's list of what the local lab does
// differently from AWS says so too):
//
//   - A draining target always waits the full deregistration delay; ALB ends it early when
//     the target has no in-flight requests (ELB user guide, "Deregistration delay").
//   - An instance terminated through EC2's TerminateInstances also drains its target before
//     its processes stop; on AWS the instance shuts down at once and the load balancer finds
//     out from its health checks.
//   - Auto Scaling's "InService" starts when the web server answers its liveness path; the
//     group's launches follow the balanced-best-effort distribution only.
//   - A rolling update that cannot launch an instance after three attempts ends as
//     UPDATE_ROLLBACK_COMPLETE: the launch template goes back to the previous version, but
//     the zones already updated keep their new instances.
//   - The parameter RecommendationServiceEnabled stays in package ssmstub, which already
//     holds Parameter Store's rules for it.
