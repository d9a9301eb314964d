#!/usr/bin/env bash
# Build the PushSeal Android library (AAR) where the Android SDK and NDK exist.
#
#   bindings/kotlin/build-aar.sh
#
# Needs: ANDROID_HOME (or ANDROID_SDK_ROOT) with an NDK (ANDROID_NDK_HOME or
# $ANDROID_HOME/ndk/<version>), cargo-ndk (`cargo install cargo-ndk`), Gradle 8.9+
# on PATH, and the generated Kotlin (bindings/build.sh runs first here).
# Output: bindings/kotlin/android/build/outputs/aar/pushseal-android-release.aar
set -euo pipefail

kotlin_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$kotlin_dir/../.." && pwd)"
cd "$root"

sdk="${ANDROID_HOME:-${ANDROID_SDK_ROOT:-}}"
if [[ -z "$sdk" || ! -d "$sdk" ]]; then
  echo "error: set ANDROID_HOME to the Android SDK" >&2
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
cargo ndk "${ndk_args[@]}" --platform 24 -o "$jni" build -p pushseal-ffi --lib --profile release-size

(cd "$kotlin_dir/android" && gradle --no-daemon assembleRelease)
echo "==> $(ls "$kotlin_dir"/android/build/outputs/aar/*.aar)"
