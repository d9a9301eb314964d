#!/usr/bin/env bash
# Build the PushSeal Android library (AAR) where the Android SDK and NDK exist.
#
#   bindings/kotlin/build-aar.sh
#
# Needs: ANDROID_HOME (or ANDROID_SDK_ROOT) with NDK r28c, the version pinned
# below and in android/build.gradle.kts (`sdkmanager "ndk;28.2.13676358"`),
# cargo-ndk (`cargo install cargo-ndk`), Gradle 8.9+ on PATH, and the generated
# Kotlin (bindings/build.sh runs first here).
# Output: bindings/kotlin/android/build/outputs/aar/pushseal-android-release.aar
#
# 16 KB pages: Google Play requires apps targeting Android 15+ to run on
# devices with 16 KB memory pages, which load a library only if every ELF LOAD
# segment is aligned to 16 KB. NDK r28 and newer link that way by default; the
# linker flag below says so for any NDK, and check-page-alignment.py refuses
# the build if a library came out 4 KB-aligned all the same.
set -euo pipefail

ndk_version=28.2.13676358 # r28c; keep equal to ndkVersion in android/build.gradle.kts

kotlin_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$kotlin_dir/../.." && pwd)"
cd "$root"

sdk="${ANDROID_HOME:-${ANDROID_SDK_ROOT:-}}"
if [[ -z "$sdk" || ! -d "$sdk" ]]; then
  echo "error: set ANDROID_HOME to the Android SDK" >&2
  exit 1
fi
export ANDROID_NDK_HOME="$sdk/ndk/$ndk_version"
if [[ ! -d "$ANDROID_NDK_HOME" ]]; then
  echo "error: NDK $ndk_version is missing: sdkmanager \"ndk;$ndk_version\"" >&2
  exit 1
fi
command -v cargo-ndk >/dev/null || { echo "error: cargo install cargo-ndk" >&2; exit 1; }
command -v gradle >/dev/null || { echo "error: Gradle 8.9+ must be on PATH" >&2; exit 1; }

# The Kotlin sources come from the host library's metadata.
"$root/bindings/build.sh"

abis=(arm64-v8a armeabi-v7a x86_64)
rustup target add aarch64-linux-android armv7-linux-androideabi x86_64-linux-android
jni="$kotlin_dir/android/src/main/jniLibs"
rm -rf "$jni"
ndk_args=()
for abi in "${abis[@]}"; do ndk_args+=(-t "$abi"); done
# --platform 24 = minSdk of android/build.gradle.kts.
RUSTFLAGS="${RUSTFLAGS:-} -C link-arg=-Wl,-z,max-page-size=16384" \
  cargo ndk "${ndk_args[@]}" --platform 24 -o "$jni" build -p pushseal-ffi --lib --profile release-size
python3 "$kotlin_dir/check-page-alignment.py" "$jni"

(cd "$kotlin_dir/android" && gradle --no-daemon assembleRelease)
aar="$(ls "$kotlin_dir"/android/build/outputs/aar/*-release.aar)"
# What the app gets: the AAR's own copies, JNA's libjnidispatch.so is checked
# by the app build (JNA 5.18.0+ ships it 16 KB-aligned).
unpacked="$(mktemp -d)"
trap 'rm -rf "$unpacked"' EXIT
(cd "$unpacked" && unzip -q "$aar" 'jni/*')
python3 "$kotlin_dir/check-page-alignment.py" "$unpacked/jni"
echo "==> $aar"
