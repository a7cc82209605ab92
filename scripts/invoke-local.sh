#!/usr/bin/env bash
# Runs one function's built bootstrap under the Lambda Runtime Interface
# Emulator with a sample event, on emulated AWS started for the occasion:
# moto_server (DynamoDB, EventBridge, SQS) and local-kms, both on 127.0.0.1,
# with the table, key and bus bootstrapped and a merchant key issued. The
# sample's placeholder ids are replaced by real ones, made by running the
# earlier steps of the published flow through their own functions
# (session → tokenize → provision → cryptogram), so the event answers as it
# would in a deployment. `make invoke` uses this when AWS_ENDPOINT_URL is unset.
#
# usage: scripts/invoke-local.sh FN [EVENT.json]
set -euo pipefail
cd "$(dirname "$0")/.."

fn=${1:?usage: $0 FN [EVENT.json]}
event=${2:-events/$fn.json}
[[ -f functions/$fn/main.go ]] || { echo "$0: no functions/$fn/main.go" >&2; exit 2; }
[[ -f $event ]] || { echo "$0: no event file $event" >&2; exit 2; }

# First pass: start moto around a second pass of this script.
if [[ -z ${ATLAS_MOTO_URL:-} ]]; then
	exec scripts/emulators.sh "$0" "$@"
fi

work=$(mktemp -d)
kms_pid=""
cleanup() {
	[[ -n $kms_pid ]] && kill "$kms_pid" 2>/dev/null && wait "$kms_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

kms_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
go build -o "$work/localkms" ./cmd/localkms
ATLAS_KMS_ADDR=127.0.0.1:$kms_port ATLAS_KMS_DATA=$work/kms "$work/localkms" >"$work/kms.out" 2>&1 &
kms_pid=$!
export AWS_ENDPOINT_URL_KMS=http://127.0.0.1:$kms_port
for _ in $(seq 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$kms_port") 2>/dev/null && break
	sleep 0.1
done

set -a
eval "$(go run ./cmd/bootstrap 2>/dev/null)"
ATLAS_STAGE=${ATLAS_STAGE:-sandbox}
set +a
key=$(go run ./cmd/merchant-key -merchant mer_invoke)

# build FN: the function's bootstrap for this machine, as `make build` makes it.
build() {
	CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags='-s -w' \
		-o "build/host/$1/bootstrap" "./functions/$1"
}

# invoke FN EVENTFILE: the function's response on stdout, its logs kept aside.
invoke() {
	build "$1"
	scripts/sam-invoke.sh "build/host/$1/bootstrap" "$2" 2>>"$work/logs"
}

# fill FILE: the sample with every placeholder known so far replaced.
declare -A ids=([sk_example]=$key)
fill() {
	local text
	text=$(cat "$1")
	for placeholder in "${!ids[@]}"; do text=${text//$placeholder/${ids[$placeholder]}}; done
	printf '%s' "$text" >"$work/event.json"
	echo "$work/event.json"
}

# field RESPONSE NAME: a field of the JSON body of an API Gateway response.
field() {
	python3 -c 'import json,sys; print(json.loads(json.load(sys.stdin)["body"]).get(sys.argv[1], ""))' "$2" <<<"$1"
}

steps=(session tokenize provision cryptogram)
for step in "${steps[@]}"; do
	[[ $step == "$fn" ]] && break
	out=$(invoke "$step" "$(fill "events/$step.json")")
	case $step in
	session)
		ids[sess_example]=$(field "$out" id)
		ids[cs_example]=$(field "$out" clientSecret)
		ids[cus_example]=$(field "$out" customerId) ;;
	tokenize) ids[tok_card_example]=$(field "$out" id) ;;
	provision) ids[nt_example]=$(field "$out" networkTokenId) ;;
	cryptogram) ids[cryptogram_example]=$(field "$out" cryptogram) ;;
	esac
	echo "invoke: ran $step first for its ids" >&2
done

build "$fn"
scripts/sam-invoke.sh "build/host/$fn/bootstrap" "$(fill "$event")"
