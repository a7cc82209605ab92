#!/usr/bin/env bash
# emulators.sh: run a command with moto_server serving DynamoDB, EventBridge
# and SQS on 127.0.0.1, then stop moto whatever happens.
#
#   scripts/emulators.sh go test ./...
#
# The command sees AWS_ENDPOINT_URL and ATLAS_MOTO_URL (http://127.0.0.1:PORT),
# AWS_REGION=us-east-1 and test credentials. KMS is not moto's business here:
# tests serve local-kms in process and set AWS_ENDPOINT_URL_KMS themselves,
# so any AWS_ENDPOINT_URL_KMS from the caller's environment is dropped.
# moto is installed with pip when missing. Its log goes to a file
# (MOTO_LOG, or a temporary file kept only when something fails).
# The exit status is the command's; on SIGINT or SIGTERM the command is sent
# SIGTERM, moto is stopped and the script exits 130 or 143.
set -euo pipefail

if [ "$#" -eq 0 ]; then
	echo "usage: $0 command [args...]" >&2
	exit 2
fi

# How long to wait for moto to answer, and how many ports to try.
readonly start_timeout_s=30
readonly start_attempts=3

moto_cmd=()
moto_pid=""
cmd_pid=""
moto_log="${MOTO_LOG:-}"
own_log=0
keep_log=1

# moto runs behind scripts/moto_serialized.py, which gives its backend one
# request at a time: moto's DynamoDB is not atomic under concurrent writes,
# and real DynamoDB is (see that file).
find_moto() {
	if ! python3 -c 'import moto.server, flask' >/dev/null 2>&1; then
		echo "emulators: moto not found; installing moto[server] with pip" >&2
		python3 -m pip install --quiet --disable-pip-version-check 'moto[server]' </dev/null >&2
	fi
	moto_cmd=(python3 "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/moto_serialized.py")
}

# free_port prints a TCP port nothing listens on at 127.0.0.1 right now.
free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

stop_moto() {
	if [ -n "$moto_pid" ] && kill -0 "$moto_pid" 2>/dev/null; then
		kill "$moto_pid" 2>/dev/null || true
		for _ in $(seq 1 50); do
			kill -0 "$moto_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$moto_pid" 2>/dev/null || true
		wait "$moto_pid" 2>/dev/null || true
	fi
	moto_pid=""
}

# stop_command ends the command, with its process group when it has its own.
stop_command() {
	if [ -n "$cmd_pid" ]; then
		kill -TERM -- "-$cmd_pid" 2>/dev/null || kill -TERM "$cmd_pid" 2>/dev/null || true
		wait "$cmd_pid" 2>/dev/null || true
		cmd_pid=""
	fi
}

cleanup() {
	stop_command
	stop_moto
	if [ "$own_log" = 1 ] && [ "$keep_log" = 0 ]; then
		rm -f "$moto_log"
	elif [ -n "$moto_log" ] && [ -s "$moto_log" ]; then
		echo "emulators: moto's log is in $moto_log" >&2
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start_moto PORT: starts moto and waits until it answers; fails if it exits
# first (the port was taken meanwhile, say) or takes too long.
start_moto() {
	local port="$1"
	local url="http://127.0.0.1:$port"
	"${moto_cmd[@]}" -H 127.0.0.1 -p "$port" </dev/null >>"$moto_log" 2>&1 &
	moto_pid=$!

	local deadline=$((SECONDS + start_timeout_s))
	while [ "$SECONDS" -lt "$deadline" ]; do
		if ! kill -0 "$moto_pid" 2>/dev/null; then
			wait "$moto_pid" 2>/dev/null || true
			moto_pid=""
			return 1
		fi
		if python3 -c 'import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=1).read()' "$url/moto-api/" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.2
	done
	stop_moto
	return 1
}

find_moto
if [ -z "$moto_log" ]; then
	moto_log="$(mktemp "${TMPDIR:-/tmp}/moto.XXXXXX.log")"
	own_log=1
fi

port=""
for _ in $(seq 1 "$start_attempts"); do
	candidate="$(free_port)"
	if start_moto "$candidate"; then
		port="$candidate"
		break
	fi
done
if [ -z "$port" ]; then
	echo "emulators: moto_server did not start; its log ($moto_log):" >&2
	tail -n 40 "$moto_log" >&2 || true
	exit 1
fi

export ATLAS_MOTO_URL="http://127.0.0.1:$port"
export AWS_ENDPOINT_URL="$ATLAS_MOTO_URL"
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL_KMS
echo "emulators: moto_server on $ATLAS_MOTO_URL (log: $moto_log)" >&2

# The command runs in the background so that a signal to this script is
# handled at once (bash runs traps only between commands, and wait is
# interruptible), with stdin passed on explicitly (a background command
# would otherwise read /dev/null). setsid gives it a process group of its
# own, so stopping it also stops what it started (go test's test binaries).
if command -v setsid >/dev/null 2>&1; then
	setsid "$@" <&0 &
else
	"$@" <&0 &
fi
cmd_pid=$!
status=0
wait "$cmd_pid" || status=$?
cmd_pid=""
if [ "$status" = 0 ]; then
	keep_log=0
fi
exit "$status"
