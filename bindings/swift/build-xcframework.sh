#!/usr/bin/env bash
# Build bindings/swift/PushSealFFI.xcframework (the native library for the
# Swift package at the repository root). macOS with Xcode and rustup only.
#
#   bindings/swift/build-xcframework.sh
#
# Slices: iOS device (arm64), iOS simulator (arm64 + x86_64, one fat library),
# macOS (arm64 + x86_64, for `swift test` on a Mac). Static libraries built with
# the size profile `release-size`; headers and module map are the committed
# ones in bindings/swift/Headers (bindings/build.sh regenerates them).
set -euo pipefail

swift_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$swift_dir/../.." && pwd)"
cd "$root"

if [[ "$(uname -s)" != Darwin ]] || ! command -v xcodebuild >/dev/null; then
  echo "error: building the XCFramework needs macOS with Xcode" >&2
  exit 1
fi

profile=release-size
targets=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios aarch64-apple-darwin x86_64-apple-darwin)
rustup target add "${targets[@]}"
for t in "${targets[@]}"; do
  echo "==> cargo build -p pushseal-ffi --profile $profile --target $t"
  cargo build -p pushseal-ffi --lib --profile "$profile" --target "$t"
done

target_dir="$(cargo metadata --format-version 1 --no-deps \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
lib() { echo "$target_dir/$1/$profile/libpushseal_ffi.a"; }

work="$swift_dir/build"
rm -rf "$work" "$swift_dir/PushSealFFI.xcframework"
mkdir -p "$work/headers" "$work/ios-simulator" "$work/macos"
# The module map must be called module.modulemap inside an XCFramework.
cp "$swift_dir/Headers/PushSealFFI.h" "$swift_dir/Headers/module.modulemap" "$work/headers/"

lipo -create "$(lib aarch64-apple-ios-sim)" "$(lib x86_64-apple-ios)" -output "$work/ios-simulator/libpushseal_ffi.a"
lipo -create "$(lib aarch64-apple-darwin)" "$(lib x86_64-apple-darwin)" -output "$work/macos/libpushseal_ffi.a"

xcodebuild -create-xcframework \
  -library "$(lib aarch64-apple-ios)" -headers "$work/headers" \
  -library "$work/ios-simulator/libpushseal_ffi.a" -headers "$work/headers" \
  -library "$work/macos/libpushseal_ffi.a" -headers "$work/headers" \
  -output "$swift_dir/PushSealFFI.xcframework"
rm -rf "$work"
echo "==> bindings/swift/PushSealFFI.xcframework"
