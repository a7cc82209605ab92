#!/usr/bin/env bash
# Runs a bootstrap once under the AWS Lambda Runtime Interface Emulator, the
# way `sam local invoke -e EVENT` does in a container, and prints the response.
#
# usage: scripts/sam-invoke.sh BOOTSTRAP EVENT.json
#
# The bootstrap must be built for this machine (`make invoke` does that). It
# gets this shell's whole environment: ATLAS_*, AWS_REGION, AWS_ENDPOINT_URL*,
# credentials. Both emulator ports are free ports on 127.0.0.1. The function's
# logs go to stderr, the response payload to stdout. Exit status 1 when the
# function returned an error, panicked or crashed; 2 for a bad command line,
# or when an AWS service it uses has no AWS_ENDPOINT_URL* and
# ATLAS_INVOKE_REAL_AWS=1 is not set (the SDK would go to real AWS).
set -euo pipefail

if [[ $# -ne 2 ]]; then
	echo "usage: $0 BOOTSTRAP EVENT.json" >&2
	exit 2
fi
bootstrap=$(realpath "$1")
event=$2
[[ -x $bootstrap && -f $bootstrap ]] || { echo "$0: no executable bootstrap at $1" >&2; exit 2; }
[[ -f $event ]] || { echo "$0: no event file $event" >&2; exit 2; }

# The function talks to DynamoDB, KMS and EventBridge. Without an endpoint
# variable for each, the AWS SDK sends it to real AWS with whatever
# credentials this shell has; that takes ATLAS_INVOKE_REAL_AWS=1.
if [[ ${ATLAS_INVOKE_REAL_AWS:-} != 1 ]]; then
	missing=()
	for service in DYNAMODB KMS EVENTBRIDGE; do
		var=AWS_ENDPOINT_URL_$service
		[[ -n ${!var:-} || -n ${AWS_ENDPOINT_URL:-} ]] || missing+=("$var")
	done
	if [[ ${AWS_IGNORE_CONFIGURED_ENDPOINT_URLS:-} == true ]]; then
		missing=(AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true)
	fi
	if [[ ${#missing[@]} -gt 0 ]]; then
		echo "$0: refusing to run against real AWS: no endpoint for ${missing[*]}." >&2
		echo "  Set AWS_ENDPOINT_URL (moto: scripts/emulators.sh) and AWS_ENDPOINT_URL_KMS" >&2
		echo "  (go run ./cmd/localkms), or ATLAS_INVOKE_REAL_AWS=1 to mean it." >&2
		exit 2
	fi
fi

# Two free ports, chosen by the kernel: binding port 0 skips ports that
# any socket holds, TIME_WAIT ones of earlier loopback connections included,
# which a connect probe cannot see and which make the emulator's own bind
# fail. Both are held until both are chosen; the emulator binds them a
# moment later.
read -r invoke_port api_port < <(python3 -c 'import socket
socks = [socket.socket() for _ in range(2)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))') &&
	[[ -n $invoke_port && -n $api_port ]] || { echo "$0: no free port found" >&2; exit 1; }

rie=$(go tool -n aws-lambda-rie)
workdir=$(mktemp -d)
pid=""
cleanup() {
	if [[ -n $pid ]]; then
		# The emulator runs each bootstrap in a process group of its own and
		# leaves it behind when it exits: end the children first.
		for child in $(pgrep -P "$pid" || true); do kill -KILL -- "-$child" "$child" 2>/dev/null || true; done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$workdir"
}
trap cleanup EXIT

AWS_LAMBDA_FUNCTION_NAME=${AWS_LAMBDA_FUNCTION_NAME:-$(basename "$(dirname "$bootstrap")")} \
AWS_LAMBDA_FUNCTION_TIMEOUT=${AWS_LAMBDA_FUNCTION_TIMEOUT:-30} \
	"$rie" --runtime-interface-emulator-address "127.0.0.1:$invoke_port" \
	--runtime-api-address "127.0.0.1:$api_port" --log-level error "$bootstrap" \
	>&2 &
pid=$!

url="http://127.0.0.1:$invoke_port/2015-03-31/functions/function/invocations"
for _ in $(seq 150); do
	if (exec 3<>"/dev/tcp/127.0.0.1/$invoke_port") 2>/dev/null; then break; fi
	kill -0 "$pid" 2>/dev/null || { echo "$0: emulator exited" >&2; exit 1; }
	sleep 0.1
done

status=$(curl --silent --show-error --output "$workdir/response" --dump-header "$workdir/headers" \
	--write-out '%{http_code}' --data-binary "@$event" "$url")

if jq -e . "$workdir/response" >/dev/null 2>&1; then
	jq . "$workdir/response"
else
	cat "$workdir/response"; echo
fi

# A returned Go error is a 200 whose body has errorMessage; a panic is a 502.
if [[ $status != 200 ]] || grep -qi '^x-amz-function-error:' "$workdir/headers" ||
	jq -e 'type == "object" and (has("errorMessage") or has("errorType"))' \
		"$workdir/response" >/dev/null 2>&1; then
	echo "$0: function failed (HTTP $status)" >&2
	exit 1
fi
