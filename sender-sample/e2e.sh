#!/usr/bin/env bash
# The sample sender end to end on one machine, with the local test gateways
# (`pushseal gateway apns` and `pushseal gateway fcm`) in place of Apple's and Google's:
#   1. the gateways start on loopback, each with a test credential (a .p8 key, a
#      service account) and an inbox that keeps every body it accepts;
#   2. the sender makes its keys (version 1 and version 2) and starts its registration server;
#   3. phones (an iPhone and an Android phone, played by `pushseal keygen`) register their
#      registration texts (both public keys) and push tokens over HTTP, as the samples'
#      apps do; an older Android app registers its version 1 key alone, and one more
#      Android app registers a token that FCM no longer knows;
#   4. the sender seals one notification for each device and delivers it through
#      pushseal-delivery: version 2 to the phones that registered a version 2 key,
#      version 1 to the older app; the device whose token is gone is removed;
#   5. each phone opens the body its gateway kept with `pushseal open`, as the
#      Notification Service Extension and the FirebaseMessagingService do (the two new
#      phones refusing version 1), and a second delivery is a replay.
# It fails on the first step that does not do what it should.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/cargo-metadata.sh
source scripts/cargo-metadata.sh

cargo build -q -p pushseal-sender-sample
cargo build -q -p pushseal-cli
target_dir="$(cargo_target_dir)"
sender="$target_dir/debug/pushseal-sender-sample"
pushseal="$target_dir/debug/pushseal"

work=$(mktemp -d)
server=
gateways=()
cleanup() {
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi
    # A gateway serves until its standard input (a FIFO held open here) closes.
    exec 3>&- 4>&- || true
    for pid in "${gateways[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
export PUSHSEAL_SAMPLE_DIR="$work/sender"
# Files here are named by key id; show them relative to the state directory.
show() { sed "s#$work/##g"; }
field() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p"; }

# Starts `pushseal gateway NAME ARGS...` with its input on a FIFO opened on
# file descriptor FD; waits for the line saying where it listens.
start_gateway() { # FD NAME ARGS...
    local fd=$1 name=$2
    shift 2
    mkfifo "$work/$name.in"
    "$pushseal" gateway "$name" "$@" <"$work/$name.in" >"$work/$name.json" 2>"$work/$name.log" &
    gateways+=($!)
    eval "exec $fd>\"\$work/\$name.in\""
    for _ in $(seq 1 300); do
        [ -s "$work/$name.json" ] && return 0
        sleep 0.1
    done
    echo "the $name gateway did not start" >&2
    cat "$work/$name.log" >&2
    exit 1
}

echo "\$ pushseal gateway apns --new-key --apns-key AuthKey_TEST123456.p8 --key-id TEST123456 --team-id TEAM123456 \\"
echo "    --topic org.pushseal.sample --ca-file apns-ca.pem --inbox inbox/apns &"
start_gateway 3 apns --new-key --apns-key "$work/AuthKey_TEST123456.p8" --key-id TEST123456 --team-id TEAM123456 \
    --topic org.pushseal.sample --ca-file "$work/apns-ca.pem" --inbox "$work/inbox/apns"
show <"$work/apns.json"
echo "\$ pushseal gateway fcm --new-account --service-account service-account.json --ca-file fcm-ca.pem --inbox inbox/fcm &"
start_gateway 4 fcm --new-account --service-account "$work/service-account.json" --ca-file "$work/fcm-ca.pem" \
    --inbox "$work/inbox/fcm"
show <"$work/fcm.json"

# Where the sample sends, and with what: the gateways' test credentials.
export APNS_KEY_FILE="$work/AuthKey_TEST123456.p8" APNS_KEY_ID=TEST123456 APNS_TEAM_ID=TEAM123456
export APNS_GATEWAY="https://$(field endpoint <"$work/apns.json")" APNS_GATEWAY_CA="$work/apns-ca.pem"
export FCM_SERVICE_ACCOUNT_FILE="$work/service-account.json"
export FCM_GATEWAY="https://$(field endpoint <"$work/fcm.json")" FCM_GATEWAY_CA="$work/fcm-ca.pem"
unset APNS_TOPIC

echo
echo "\$ pushseal-sender-sample init"
"$sender" init | show
sender_pk=$("$sender" init | sed -n 's/^sender public key: //p')
sender_pk_v2=$("$sender" init | sed -n 's/^sender public key v2: //p')
case "$sender_pk_v2" in pushseal-sender-v2:*) ;; *) echo "init printed no version 2 sender key" >&2; exit 1 ;; esac

echo
echo "\$ pushseal-sender-sample serve --listen 127.0.0.1:0 --max-requests 4 &"
: >"$work/server.log"
"$sender" serve --listen 127.0.0.1:0 --max-requests 4 2>>"$work/server.log" &
server=$!
for _ in $(seq 1 100); do
    url=$(sed -n 's#^listening on \(http://[0-9.:]*\).*#\1#p' "$work/server.log")
    [ -n "$url" ] && break
    sleep 0.1
done
[ -n "$url" ] || { echo "the registration server did not start" >&2; cat "$work/server.log" >&2; exit 1; }

"$pushseal" keygen --secret-out "$work/iphone.key" >"$work/iphone.pub"
"$pushseal" keygen --secret-out "$work/android.key" >"$work/android.pub"
"$pushseal" keygen --v1-only --secret-out "$work/older.key" >"$work/older.pub"
"$pushseal" keygen --secret-out "$work/gone.key" >"$work/gone.pub"
iphone_reg=$(field registration <"$work/iphone.pub")
iphone_id=$(field key_id <"$work/iphone.pub")
android_reg=$(field registration <"$work/android.pub")
android_id=$(field key_id <"$work/android.pub")
older_pk=$(field public_key <"$work/older.pub")
older_id=$(field key_id <"$work/older.pub")
gone_reg=$(field registration <"$work/gone.pub")
gone_id=$(field key_id <"$work/gone.pub")
case "$iphone_reg$android_reg" in pushseal-registration-v2:*pushseal-registration-v2:*) ;;
    *) echo "keygen printed no registration text" >&2; exit 1 ;; esac
# The push tokens: the APNs gateway delivers to 64 hex digits; the FCM gateway
# to any token but the few that choose an error, such as "unregistered".
iphone_token=$(printf 'a1%.0s' $(seq 1 32))
android_token="fcm-token-of-the-android-phone:APA91bExample"
older_token="fcm-token-of-an-older-app:APA91bExample"

register() {
    echo
    # A registration text is 1,691 characters: show its start.
    echo "\$ curl -X POST $url/registrations --data '$(sed 's/\(pushseal-registration-v2:.\{20\}\)[^"]*/\1.../' <<<"$1")'"
    curl -sS --fail-with-body -X POST "$url/registrations" -H 'content-type: application/json' --data "$1" \
        | tee "$work/answer.json" | sed 's/\(pushseal-sender-v2:.\{20\}\)[^"]*/\1.../'
    echo
    grep -q "\"sender_public_key_v2\":\"$sender_pk_v2\"" "$work/answer.json"
}
register "{\"platform\":\"ios\",\"registration\":\"$iphone_reg\",\"key_id\":\"$iphone_id\",\"push_token\":\"$iphone_token\",\"app_id\":\"org.pushseal.sample\",\"apns_environment\":\"development\"}"
register "{\"platform\":\"android\",\"registration\":\"$android_reg\",\"key_id\":\"$android_id\",\"push_token\":\"$android_token\",\"app_id\":\"org.pushseal.sample\"}"
# An app made before version 2 registers its version 1 public key alone.
register "{\"platform\":\"android\",\"public_key\":\"$older_pk\",\"key_id\":\"$older_id\",\"push_token\":\"$older_token\",\"app_id\":\"org.pushseal.sample\"}"
# An app since uninstalled: FCM answers UNREGISTERED for its token.
register "{\"platform\":\"android\",\"registration\":\"$gone_reg\",\"key_id\":\"$gone_id\",\"push_token\":\"unregistered\",\"app_id\":\"org.pushseal.sample\"}"
wait "$server"
server=
echo
echo "(server log)"
cat "$work/server.log"

echo
echo "\$ pushseal-sender-sample devices"
"$sender" devices

message='{"title":"Lab results","body":"Your results from Tuesday are ready.","category":"results"}'
echo
echo "\$ echo '$message' | pushseal-sender-sample send --to all"
echo "$message" | "$sender" send --to all >"$work/outcomes.jsonl" 2>"$work/send.err"
cat "$work/outcomes.jsonl"
cat "$work/send.err"
outcome_of() { grep "\"to\":\"$1\"" "$work/outcomes.jsonl" | field outcome; }
[ "$(wc -l <"$work/outcomes.jsonl")" -eq 4 ] || { echo "send printed no line for some device" >&2; exit 1; }
for id in "$iphone_id" "$android_id" "$older_id"; do
    [ "$(outcome_of "$id")" = delivered ] || { echo "device $id: not delivered" >&2; exit 1; }
done
[ "$(outcome_of "$gone_id")" = token_gone ] || { echo "device $gone_id: its token is not gone" >&2; exit 1; }
# Neither the message nor a push token is ever printed.
if grep -e 'Lab results' -e 'Tuesday' -e "$iphone_token" -e "$android_token" -e "$older_token" \
    "$work/outcomes.jsonl" "$work/send.err"; then
    echo "send printed the message or a push token" >&2
    exit 1
fi

echo
echo "\$ pushseal-sender-sample devices    # the device whose token is gone was removed"
"$sender" devices | tee "$work/devices.txt"
if grep -q "$gone_id" "$work/devices.txt" "$PUSHSEAL_SAMPLE_DIR/registrations.json"; then
    echo "the device whose token is gone is still registered" >&2
    exit 1
fi
[ "$(wc -l <"$work/devices.txt")" -eq 3 ] || { echo "a device that was delivered to was removed" >&2; exit 1; }

# What each gateway kept: one body per device, named by its push token and the gateway's id.
inbox_file() { # DIR TOKEN
    local files=("$1/$2".*.json)
    [ "${#files[@]}" -eq 1 ] && [ -f "${files[0]}" ] || { echo "the inbox $1 has no one body for a device" >&2; exit 1; }
    echo "${files[0]}"
}
iphone_body=$(inbox_file "$work/inbox/apns" "$iphone_token")
android_body=$(inbox_file "$work/inbox/fcm" "$android_token")
older_body=$(inbox_file "$work/inbox/fcm" "$older_token")
echo
echo "\$ ls inbox/apns inbox/fcm"
(cd "$work" && ls inbox/apns inbox/fcm)

echo
echo "\$ pushseal inspect < inbox/apns/$iphone_token.*.json    # what APNs sees"
"$pushseal" inspect <"$iphone_body" | tee "$work/inspect.json"
grep -q '"version":2' "$work/inspect.json"

echo
echo "\$ pushseal open --v2-only --secret iphone.key --sender <sender public key v2> --replay-db iphone.replay < inbox/apns/$iphone_token.*.json"
opened=$("$pushseal" open --v2-only --secret "$work/iphone.key" --sender "$sender_pk_v2" \
    --replay-db "$work/iphone.replay" <"$iphone_body")
echo "$opened"
grep -q '"body":"Your results from Tuesday are ready."' <<<"$opened"

echo
echo "\$ pushseal inspect --platform fcm < inbox/fcm/$android_token.*.json"
"$pushseal" inspect --platform fcm <"$android_body" | tee "$work/inspect.json"
grep -q '"version":2' "$work/inspect.json"
echo
echo "\$ pushseal open --v2-only --platform fcm --secret android.key --sender <sender public key v2> --replay-db android.replay < inbox/fcm/$android_token.*.json"
opened=$("$pushseal" open --v2-only --platform fcm --secret "$work/android.key" --sender "$sender_pk_v2" \
    --replay-db "$work/android.replay" <"$android_body")
echo "$opened"
grep -q '"title":"Lab results"' <<<"$opened"
grep -q '"body":"Your results from Tuesday are ready."' <<<"$opened"

echo
echo "\$ pushseal inspect --platform fcm < inbox/fcm/$older_token.*.json    # the older app: version 1"
"$pushseal" inspect --platform fcm <"$older_body" | tee "$work/inspect.json"
grep -q '"version":1' "$work/inspect.json"
echo
echo "\$ pushseal open --platform fcm --secret older.key --sender <sender public key> < inbox/fcm/$older_token.*.json"
opened=$("$pushseal" open --platform fcm --secret "$work/older.key" --sender "$sender_pk" <"$older_body")
echo "$opened"
grep -q '"title":"Lab results"' <<<"$opened"

echo
echo "\$ pushseal open ... < inbox/apns/$iphone_token.*.json    # delivered a second time"
if "$pushseal" open --v2-only --secret "$work/iphone.key" --sender "$sender_pk_v2" \
    --replay-db "$work/iphone.replay" <"$iphone_body" 2>"$work/replay.err"; then
    echo "a replayed payload opened" >&2
    exit 1
fi
cat "$work/replay.err"
grep -q replay "$work/replay.err"

echo
echo "\$ pushseal open --secret android.key ... < inbox/apns/$iphone_token.*.json    # the other phone's payload"
if "$pushseal" open --secret "$work/android.key" --sender "$sender_pk" --sender "$sender_pk_v2" \
    <"$iphone_body" 2>"$work/other.err"; then
    echo "a payload opened on the wrong phone" >&2
    exit 1
fi
cat "$work/other.err"

echo
echo "\$ pushseal-sender-sample remove $android_id    # the Android phone was lost"
"$sender" remove "$android_id"
"$sender" devices
if echo '{"title":"t","body":"b"}' | "$sender" send --to "$android_id" >/dev/null 2>&1; then
    echo "a removed device was sealed to" >&2
    exit 1
fi

echo
echo "sample sender end to end: ok"
