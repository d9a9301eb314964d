#!/usr/bin/env bash
# The sample sender end to end on one machine, no gateway needed:
#   1. the sender makes its keys (version 1 and version 2) and starts its registration server;
#   2. two phones (an iPhone and an Android phone, played by `pushseal keygen`)
#      register their registration texts (both public keys) and push tokens over HTTP,
#      as the samples' apps do, and an older Android app registers its version 1 key alone;
#   3. the sender seals one notification for each and writes the APNs and FCM requests:
#      version 2 to the phones that registered a version 2 key, version 1 to the older app;
#   4. each phone opens its payload with `pushseal open`, as the Notification Service
#      Extension and the FirebaseMessagingService do (the two new phones refusing version 1),
#      and a second delivery is a replay.
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
sender_pk_v2=$("$sender" init | sed -n 's/^sender public key v2: //p')
case "$sender_pk_v2" in pushseal-sender-v2:*) ;; *) echo "init printed no version 2 sender key" >&2; exit 1 ;; esac

echo
echo "\$ sample_sender serve --listen 127.0.0.1:0 --max-requests 3 &"
: >"$work/server.log"
"$sender" serve --listen 127.0.0.1:0 --max-requests 3 2>>"$work/server.log" &
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
iphone_reg=$(field registration <"$work/iphone.pub")
iphone_id=$(field key_id <"$work/iphone.pub")
android_reg=$(field registration <"$work/android.pub")
android_id=$(field key_id <"$work/android.pub")
older_pk=$(field public_key <"$work/older.pub")
older_id=$(field key_id <"$work/older.pub")
case "$iphone_reg$android_reg" in pushseal-registration-v2:*pushseal-registration-v2:*) ;;
    *) echo "keygen printed no registration text" >&2; exit 1 ;; esac

register() {
    echo
    # A registration text is 1,691 characters: show its start.
    echo "\$ curl -X POST $url/registrations --data '$(sed 's/\(pushseal-registration-v2:.\{20\}\)[^"]*/\1.../' <<<"$1")'"
    curl -sS --fail-with-body -X POST "$url/registrations" -H 'content-type: application/json' --data "$1" \
        | tee "$work/answer.json" | sed 's/\(pushseal-sender-v2:.\{20\}\)[^"]*/\1.../'
    echo
    grep -q "\"sender_public_key_v2\":\"$sender_pk_v2\"" "$work/answer.json"
}
register "{\"platform\":\"ios\",\"registration\":\"$iphone_reg\",\"key_id\":\"$iphone_id\",\"push_token\":\"$(printf 'a1%.0s' $(seq 1 32))\",\"app_id\":\"org.pushseal.sample\",\"apns_environment\":\"development\"}"
register "{\"platform\":\"android\",\"registration\":\"$android_reg\",\"key_id\":\"$android_id\",\"push_token\":\"fcm-token-of-the-android-phone:APA91bExample\",\"app_id\":\"org.pushseal.sample\"}"
# An app made before version 2 registers its version 1 public key alone.
register "{\"platform\":\"android\",\"public_key\":\"$older_pk\",\"key_id\":\"$older_id\",\"push_token\":\"fcm-token-of-an-older-app:APA91bExample\",\"app_id\":\"org.pushseal.sample\"}"
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
"$pushseal" inspect <"$out/$iphone_id-apns.json" | tee "$work/inspect.json"
grep -q '"version":2' "$work/inspect.json"

echo
echo "\$ pushseal open --v2-only --secret iphone.key --sender <sender public key v2> --replay-db iphone.replay < out/$iphone_id-apns.json"
opened=$("$pushseal" open --v2-only --secret "$work/iphone.key" --sender "$sender_pk_v2" \
    --replay-db "$work/iphone.replay" <"$out/$iphone_id-apns.json")
echo "$opened"
grep -q '"body":"Your results from Tuesday are ready."' <<<"$opened"

echo
echo "\$ pushseal inspect --platform fcm < out/$android_id-fcm.json"
"$pushseal" inspect --platform fcm <"$out/$android_id-fcm.json" | tee "$work/inspect.json"
grep -q '"version":2' "$work/inspect.json"
echo
echo "\$ pushseal open --v2-only --platform fcm --secret android.key --sender <sender public key v2> --replay-db android.replay < out/$android_id-fcm.json"
opened=$("$pushseal" open --v2-only --platform fcm --secret "$work/android.key" --sender "$sender_pk_v2" \
    --replay-db "$work/android.replay" <"$out/$android_id-fcm.json")
echo "$opened"
grep -q '"title":"Lab results"' <<<"$opened"

echo
echo "\$ pushseal inspect --platform fcm < out/$older_id-fcm.json    # the older app: version 1"
"$pushseal" inspect --platform fcm <"$out/$older_id-fcm.json" | tee "$work/inspect.json"
grep -q '"version":1' "$work/inspect.json"
echo
echo "\$ pushseal open --platform fcm --secret older.key --sender <sender public key> < out/$older_id-fcm.json"
opened=$("$pushseal" open --platform fcm --secret "$work/older.key" --sender "$sender_pk" <"$out/$older_id-fcm.json")
echo "$opened"
grep -q '"title":"Lab results"' <<<"$opened"

echo
echo "\$ pushseal open ... < out/$iphone_id-apns.json    # delivered a second time"
if "$pushseal" open --v2-only --secret "$work/iphone.key" --sender "$sender_pk_v2" \
    --replay-db "$work/iphone.replay" <"$out/$iphone_id-apns.json" 2>"$work/replay.err"; then
    echo "a replayed payload opened" >&2
    exit 1
fi
cat "$work/replay.err"
grep -q replay "$work/replay.err"

echo
echo "\$ pushseal open --secret android.key ... < out/$iphone_id-apns.json    # the other phone's payload"
if "$pushseal" open --secret "$work/android.key" --sender "$sender_pk" --sender "$sender_pk_v2" \
    <"$out/$iphone_id-apns.json" 2>"$work/other.err"; then
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
