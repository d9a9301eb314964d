#!/usr/bin/env bash
# Build bindings/swift/PushSealFFI.xcframework (the native library for the
# Swift package at the repository root). macOS with Xcode and rustup only.
#
#   bindings/swift/build-xcframework.sh
#
# Slices (static libraries, size profile `release-size`):
#   ios-arm64                          iPhone, iPad
#   ios-arm64_x86_64-simulator         their simulators (one fat library)
#   ios-arm64_x86_64-maccatalyst       Mac Catalyst apps
#   macos-arm64_x86_64                 macOS (and `swift test` on a Mac)
#   xros-arm64, xros-arm64-simulator   visionOS and its simulator
# visionOS targets are tier 3 in Rust: they build with a nightly toolchain and
# -Zbuild-std (`rustup toolchain install nightly --component rust-src`);
# PUSHSEAL_SKIP_VISIONOS=1 leaves those two slices out.
#
# Headers: every slice carries Headers/PushSealFFI/{PushSealFFI.h,module.modulemap},
# a folder named after the module. Xcode copies the headers of every
# static-library XCFramework an app links into one include/ folder; a module
# map at the root of Headers/ would collide with another Rust SDK's ("Multiple
# commands produce .../include/module.modulemap"). Clang finds the module map in
# the subfolder named after the module it imports. The headers and module map
# are the committed ones in bindings/swift/Headers (bindings/build.sh
# regenerates them).
set -euo pipefail

swift_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$swift_dir/../.." && pwd)"
cd "$root"
# shellcheck source=scripts/cargo-metadata.sh
source "$root/scripts/cargo-metadata.sh"

if [[ "$(uname -s)" != Darwin ]] || ! command -v xcodebuild >/dev/null; then
  echo "error: building the XCFramework needs macOS with Xcode" >&2
  exit 1
fi

profile=release-size
targets=(
  aarch64-apple-ios
  aarch64-apple-ios-sim x86_64-apple-ios
  aarch64-apple-ios-macabi x86_64-apple-ios-macabi
  aarch64-apple-darwin x86_64-apple-darwin
)
visionos_targets=(aarch64-apple-visionos aarch64-apple-visionos-sim)
with_visionos=true
[[ "${PUSHSEAL_SKIP_VISIONOS:-}" == 1 ]] && with_visionos=false

rustup target add "${targets[@]}"
for t in "${targets[@]}"; do
  echo "==> cargo build -p pushseal-ffi --profile $profile --target $t"
  cargo build -p pushseal-ffi --lib --locked --profile "$profile" --target "$t"
done
if $with_visionos; then
  for t in "${visionos_targets[@]}"; do
    echo "==> cargo +nightly build -Zbuild-std -p pushseal-ffi --profile $profile --target $t"
    cargo +nightly build -Zbuild-std -p pushseal-ffi --lib --locked --profile "$profile" --target "$t"
  done
fi

target_dir="$(cargo_target_dir)"
lib() { echo "$target_dir/$1/$profile/libpushseal_ffi.a"; }

work="$swift_dir/build"
rm -rf "$work" "$swift_dir/PushSealFFI.xcframework"
mkdir -p "$work/headers/PushSealFFI" "$work/ios-simulator" "$work/maccatalyst" "$work/macos"
# The module map must be called module.modulemap inside an XCFramework.
cp "$swift_dir/Headers/PushSealFFI.h" "$swift_dir/Headers/module.modulemap" "$work/headers/PushSealFFI/"

lipo -create "$(lib aarch64-apple-ios-sim)" "$(lib x86_64-apple-ios)" -output "$work/ios-simulator/libpushseal_ffi.a"
lipo -create "$(lib aarch64-apple-ios-macabi)" "$(lib x86_64-apple-ios-macabi)" -output "$work/maccatalyst/libpushseal_ffi.a"
lipo -create "$(lib aarch64-apple-darwin)" "$(lib x86_64-apple-darwin)" -output "$work/macos/libpushseal_ffi.a"

slices=(
  -library "$(lib aarch64-apple-ios)" -headers "$work/headers"
  -library "$work/ios-simulator/libpushseal_ffi.a" -headers "$work/headers"
  -library "$work/maccatalyst/libpushseal_ffi.a" -headers "$work/headers"
  -library "$work/macos/libpushseal_ffi.a" -headers "$work/headers"
)
if $with_visionos; then
  slices+=(
    -library "$(lib aarch64-apple-visionos)" -headers "$work/headers"
    -library "$(lib aarch64-apple-visionos-sim)" -headers "$work/headers"
  )
fi
xcodebuild -create-xcframework "${slices[@]}" -output "$swift_dir/PushSealFFI.xcframework"
rm -rf "$work"
echo "==> bindings/swift/PushSealFFI.xcframework"
