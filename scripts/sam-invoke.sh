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
# function returned an error, panicked or crashed.
set -euo pipefail

if [[ $# -ne 2 ]]; then
	echo "usage: $0 BOOTSTRAP EVENT.json" >&2
	exit 2
fi
bootstrap=$(realpath "$1")
event=$2
[[ -x $bootstrap && -f $bootstrap ]] || { echo "$0: no executable bootstrap at $1" >&2; exit 2; }
[[ -f $event ]] || { echo "$0: no event file $event" >&2; exit 2; }

# A port nothing listens on; the emulator binds it a moment later.
free_port() {
	local port
	for _ in $(seq 50); do
		port=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return
		fi
	done
	echo "$0: no free port found" >&2
	return 1
}
invoke_port=$(free_port)
api_port=$(free_port)
while [[ $api_port == "$invoke_port" ]]; do api_port=$(free_port); done

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
