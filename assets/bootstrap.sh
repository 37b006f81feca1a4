# Bootstraps one HealthCheckLab web server instance (runs as root from user data): installs the
# server binary from the stack's S3 asset, runs it as a systemd service, waits until the load
# balancer routes to this instance, then tells CloudFormation it is ready. The stack fills in
# the placeholders written between @ signs.
#
# The signal rules:
# - A set-up error before the server is live sends exactly one FAILURE signal at once, instead of
#   letting CloudFormation wait for its timeout.
# - Ready means the target group reports this instance `healthy`, or `unhealthy` only because the
#   deep health check answered 503 (Target.ResponseCodeMismatch: the server is up and its
#   dependency is down, so deploying the deep check during an outage still succeeds). Until then a
#   rolling update does not terminate the next old instance. If the load balancer never routes to
#   the instance within the bound, that is a failed instance: FAILURE, and the update rolls back.
# - The success signal is retried. When it still fails (an instance launched outside a deploy, such
#   as the lab's repair, has nobody waiting for it), the server stays in service and the bootstrap
#   ends successfully: a signal problem never turns a working instance into a FAILURE.
set -euo pipefail
shopt -s inherit_errexit

# Files are installed under this root: empty on an instance; tests point it at a temporary directory.
root=${HEALTHCHECKLAB_ROOT:-}
PATH="/opt/aws/bin:$PATH"

readonly liveness_timeout=@LIVENESS_TIMEOUT@ ready_timeout=@READY_TIMEOUT@ poll=@POLL_SECONDS@
readonly signal_attempts=@SIGNAL_ATTEMPTS@

signalled=false
signal() { # exit code (0 = success), reason
  cfn-signal --exit-code "$1" --reason "$2" --stack '@STACK@' --resource '@RESOURCE@' --region '@REGION@'
}
# shellcheck disable=SC2317 # run by the EXIT trap
on_exit() {
  local status=$?
  if [ "$status" -ne 0 ] && [ "$signalled" = false ]; then
    signalled=true
    signal "$status" "bootstrap failed with status $status; see /var/log/cloud-init-output.log on the instance" || true
  fi
}
trap on_exit EXIT

now() { date +%s; }

imds() { # path under latest/meta-data
  local token
  token=$(curl -sf --max-time 2 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token)
  curl -sf --max-time 2 -H "X-aws-ec2-metadata-token: $token" "http://169.254.169.254/latest/meta-data/$1"
}

if ! command -v cfn-signal >/dev/null; then
  dnf install -y -q aws-cfn-bootstrap
fi
instance_id=$(imds instance-id)

aws s3 cp 's3://@BUCKET@/@KEY@' "$root/usr/local/bin/healthchecklab-webserver" --region '@REGION@' --only-show-errors
chmod 0755 "$root/usr/local/bin/healthchecklab-webserver"

install -d -m 0755 "$root/etc/healthchecklab" "$root/etc/systemd/system"
cat > "$root/etc/healthchecklab/webserver.env" <<'ENV'
LISTEN=:@PORT@
SERVER_CODE=@SERVER_CODE@
TABLE=@TABLE@
PARAMETER=@PARAMETER@
REGION=@REGION@
ENV
cat > "$root/etc/systemd/system/healthchecklab-webserver.service" <<'UNIT'
@UNIT@
UNIT
systemctl daemon-reload
systemctl enable --now healthchecklab-webserver.service

# Live: the process is up and serving HTTP on this host (no dependency involved).
deadline=$(($(now) + liveness_timeout))
until curl -sf --max-time 2 -o /dev/null 'http://127.0.0.1:@PORT@@LIVENESS@'; do
  if [ "$(now)" -ge "$deadline" ]; then
    echo "the web server did not answer @LIVENESS@ within ${liveness_timeout} s" >&2
    exit 1
  fi
  sleep "$poll"
done
echo "web server live on port @PORT@"

# Ready: the load balancer routes to this instance.
target_health() {
  aws elbv2 describe-target-health --region '@REGION@' --target-group-arn '@TARGET_GROUP@' \
    --targets "Id=$instance_id,Port=@PORT@" --cli-connect-timeout 5 --cli-read-timeout 10 \
    --query 'TargetHealthDescriptions[0].TargetHealth.[State,Reason]' --output text
}
deadline=$(($(now) + ready_timeout))
seen=""
while :; do
  state="" reason=""
  if health=$(target_health); then
    read -r state reason <<<"$health" || true
  fi
  if [ "$state $reason" != "$seen" ]; then
    seen="$state $reason"
    echo "target $instance_id: ${state:-unknown} ${reason:-}"
  fi
  if [ "$state" = healthy ] || { [ "$state" = unhealthy ] && [ "$reason" = Target.ResponseCodeMismatch ]; }; then
    break
  fi
  if [ "$(now)" -ge "$deadline" ]; then
    echo "the load balancer did not route to $instance_id within ${ready_timeout} s (last: ${seen})" >&2
    exit 1
  fi
  sleep "$poll"
done

# In service. From here on, nothing sends a failure.
signalled=true
for attempt in $(seq 1 "$signal_attempts"); do
  if signal 0 "in service: target $state"; then
    exit 0
  fi
  if [ "$attempt" -lt "$signal_attempts" ]; then
    sleep $((attempt * poll))
  fi
done
echo "cfn-signal failed ${signal_attempts} times; the instance stays in service (nothing waits for a signal when it was launched outside a deploy)" >&2
exit 0
