# Bootstraps one HealthCheckLab web server instance (runs as root from user data): installs the
# server binary from the stack's S3 asset, runs it as a systemd service and tells CloudFormation
# the instance is ready once the server answers its liveness path on this host. The signal never
# waits for the deep health check, so an instance boots and signals even during a dependency outage.
# The stack fills in the placeholders written between @ signs.
set -euo pipefail

signal() {
  /opt/aws/bin/cfn-signal --exit-code "$1" --stack '@STACK@' --resource '@RESOURCE@' --region '@REGION@'
}
# Any failure below reports failure at once, instead of letting CloudFormation wait for the timeout.
trap 'status=$?; [ "$status" -eq 0 ] || signal "$status" || true' EXIT

if [ ! -x /opt/aws/bin/cfn-signal ]; then
  dnf install -y -q aws-cfn-bootstrap
fi

aws s3 cp 's3://@BUCKET@/@KEY@' /usr/local/bin/healthchecklab-webserver --region '@REGION@' --only-show-errors
chmod 0755 /usr/local/bin/healthchecklab-webserver

install -d -m 0755 /etc/healthchecklab
cat > /etc/healthchecklab/webserver.env <<'ENV'
LISTEN=:@PORT@
SERVER_CODE=@SERVER_CODE@
TABLE=@TABLE@
PARAMETER=@PARAMETER@
REGION=@REGION@
ENV
cat > /etc/systemd/system/healthchecklab-webserver.service <<'UNIT'
@UNIT@
UNIT
systemctl daemon-reload
systemctl enable --now healthchecklab-webserver.service

# Liveness only: the process is up and serving HTTP. Up to 2 minutes.
for _ in $(seq 1 60); do
  if curl -sf -o /dev/null 'http://127.0.0.1:@PORT@@LIVENESS@'; then
    signal 0
    exit 0
  fi
  sleep 2
done
echo "web server did not answer @LIVENESS@" >&2
exit 1
