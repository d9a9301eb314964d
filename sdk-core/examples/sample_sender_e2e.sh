#!/usr/bin/env bash
# The sample sender end to end on one machine, no gateway needed:
#   1. the sender makes its key and starts its registration server;
#   2. two phones (an iPhone and an Android phone, played by `pushseal keygen`)
#      register their public keys and push tokens over HTTP, as the samples' apps do;
#   3. the sender seals one notification for each and writes the APNs and FCM requests;
#   4. each phone opens its payload with `pushseal open`, as the Notification Service
#      Extension and the FirebaseMessagingService do, and a second delivery is a replay.
# It fails on the first step that does not do what it should.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/cargo-metadata.sh
source scripts/cargo-metadata.sh

cargo build -q -p pushseal --example sample_sender
cargo build -q -p pushseal-cli
target_dir="$(cargo_target_dir)"
sender="$target_dir/debug/examples/sample_sender"
pushseal="$target_dir/debug/pushseal"

work=$(mktemp -d)
server=
cleanup() {
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
export PUSHSEAL_SAMPLE_DIR="$work/sender"
# Files here are named by key id; show them relative to the state directory.
show() { sed "s#$work/##g"; }
field() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p"; }

echo "\$ sample_sender init"
"$sender" init | show
sender_pk=$("$sender" init | sed -n 's/^sender public key: //p')

echo
echo "\$ sample_sender serve --listen 127.0.0.1:0 --max-requests 2 &"
: >"$work/server.log"
"$sender" serve --listen 127.0.0.1:0 --max-requests 2 2>>"$work/server.log" &
server=$!
for _ in $(seq 1 100); do
    url=$(sed -n 's#^listening on \(http://[0-9.:]*\).*#\1#p' "$work/server.log")
    [ -n "$url" ] && break
    sleep 0.1
done
[ -n "$url" ] || { echo "the registration server did not start" >&2; cat "$work/server.log" >&2; exit 1; }

"$pushseal" keygen --secret-out "$work/iphone.key" >"$work/iphone.pub"
"$pushseal" keygen --secret-out "$work/android.key" >"$work/android.pub"
iphone_pk=$(field public_key <"$work/iphone.pub")
iphone_id=$(field key_id <"$work/iphone.pub")
android_pk=$(field public_key <"$work/android.pub")
android_id=$(field key_id <"$work/android.pub")

register() {
    echo
    echo "\$ curl -X POST $url/registrations --data '$1'"
    curl -sS --fail-with-body -X POST "$url/registrations" -H 'content-type: application/json' --data "$1"
    echo
}
register "{\"platform\":\"ios\",\"public_key\":\"$iphone_pk\",\"key_id\":\"$iphone_id\",\"push_token\":\"$(printf 'a1%.0s' $(seq 1 32))\",\"app_id\":\"org.pushseal.sample\",\"apns_environment\":\"development\"}"
register "{\"platform\":\"android\",\"public_key\":\"$android_pk\",\"key_id\":\"$android_id\",\"push_token\":\"fcm-token-of-the-android-phone:APA91bExample\",\"app_id\":\"org.pushseal.sample\"}"
wait "$server"
server=
echo
echo "(server log)"
cat "$work/server.log"

echo
echo "\$ sample_sender devices"
"$sender" devices

echo
echo "\$ echo '{\"title\":\"Lab results\",\"body\":\"Your results from Tuesday are ready.\",\"category\":\"results\"}' | sample_sender send --to all --send"
echo '{"title":"Lab results","body":"Your results from Tuesday are ready.","category":"results"}' \
    | env -u APNS_AUTH_TOKEN -u APNS_AUTH_TOKEN_FILE -u FCM_ACCESS_TOKEN -u FCM_ACCESS_TOKEN_FILE -u FCM_PROJECT_ID \
        "$sender" send --to all --send | show

out="$PUSHSEAL_SAMPLE_DIR/out"
echo
echo "\$ cat out/$iphone_id-apns.http"
cat "$out/$iphone_id-apns.http"
echo
echo "\$ cat out/$android_id-fcm.http"
cat "$out/$android_id-fcm.http"

echo
echo "\$ pushseal inspect < out/$iphone_id-apns.json    # what APNs sees"
"$pushseal" inspect <"$out/$iphone_id-apns.json"

echo
echo "\$ pushseal open --secret iphone.key --sender <sender public key> --replay-db iphone.replay < out/$iphone_id-apns.json"
opened=$("$pushseal" open --secret "$work/iphone.key" --sender "$sender_pk" --replay-db "$work/iphone.replay" \
    <"$out/$iphone_id-apns.json")
echo "$opened"
grep -q '"body":"Your results from Tuesday are ready."' <<<"$opened"

echo
echo "\$ pushseal open --platform fcm --secret android.key --sender <sender public key> --replay-db android.replay < out/$android_id-fcm.json"
opened=$("$pushseal" open --platform fcm --secret "$work/android.key" --sender "$sender_pk" \
    --replay-db "$work/android.replay" <"$out/$android_id-fcm.json")
echo "$opened"
grep -q '"title":"Lab results"' <<<"$opened"

echo
echo "\$ pushseal open ... < out/$iphone_id-apns.json    # delivered a second time"
if "$pushseal" open --secret "$work/iphone.key" --sender "$sender_pk" --replay-db "$work/iphone.replay" \
    <"$out/$iphone_id-apns.json" 2>"$work/replay.err"; then
    echo "a replayed payload opened" >&2
    exit 1
fi
cat "$work/replay.err"
grep -q replay "$work/replay.err"

echo
echo "\$ pushseal open --secret android.key ... < out/$iphone_id-apns.json    # the other phone's payload"
if "$pushseal" open --secret "$work/android.key" --sender "$sender_pk" <"$out/$iphone_id-apns.json" 2>"$work/other.err"; then
    echo "a payload opened on the wrong phone" >&2
    exit 1
fi
cat "$work/other.err"

echo
echo "\$ sample_sender remove $android_id    # the Android phone was lost"
"$sender" remove "$android_id"
"$sender" devices
if echo '{"title":"t","body":"b"}' | "$sender" send --to "$android_id" >/dev/null 2>&1; then
    echo "a removed device was sealed to" >&2
    exit 1
fi

echo
echo "sample sender end to end: ok"
