#!/usr/bin/env bash
# Build a release of the Swift package: the XCFramework zip, its checksum and
# the generated Swift sources, all from one build, and pin the zip in
# Package.swift. macOS with Xcode and rustup only.
#
#   bindings/swift/release.sh VERSION
#
# 1. bindings/build.sh regenerates PushSeal.swift and the header from the
#    library it builds (the API checksums in PushSeal.swift are that library's).
# 2. build-xcframework.sh builds every slice from the same sources.
# 3. The XCFramework is zipped as dist/PushSealFFI-VERSION.xcframework.zip and
#    `swift package compute-checksum` gives its SHA-256.
# 4. Package.swift's releaseURL and releaseChecksum are set to the zip's
#    download URL (<repository>/releases/download/VERSION/<zip>) and checksum.
#
# Then: commit Package.swift with the regenerated sources, tag VERSION, and
# attach the zip to the release of that tag. A Swift package added by URL at
# that tag downloads exactly this binary, whose UniFFI checksums match the
# committed PushSeal.swift (a mismatch is a fatalError in every call).
set -euo pipefail

version="${1:-}"
if [[ ! "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$ ]]; then
  echo "usage: $0 VERSION   (semantic version, e.g. 0.2.0)" >&2
  exit 2
fi

swift_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$swift_dir/../.." && pwd)"
cd "$root"
# shellcheck source=scripts/cargo-metadata.sh
source "$root/scripts/cargo-metadata.sh"

crate_version="$(workspace_package_field pushseal-ffi version)"
if [[ "$crate_version" != "$version" ]]; then
  echo "error: pushseal-ffi is version $crate_version, not $version: bump the workspace version first" >&2
  exit 1
fi
repository="$(workspace_package_field pushseal-ffi repository)"

CARGO_BUILD_FLAGS=--locked "$root/bindings/build.sh"
"$swift_dir/build-xcframework.sh"

zip_name="PushSealFFI-$version.xcframework.zip"
mkdir -p "$root/dist"
rm -f "$root/dist/$zip_name"
(cd "$swift_dir" && ditto -c -k --sequesterRsrc --keepParent PushSealFFI.xcframework "$root/dist/$zip_name")
checksum="$(swift package compute-checksum "$root/dist/$zip_name")"
url="$repository/releases/download/$version/$zip_name"

python3 - "$root/Package.swift" "$url" "$checksum" <<'PY'
import re, sys
path, url, checksum = sys.argv[1:]
text = open(path, encoding="utf-8").read()
text, n1 = re.subn(r'^let releaseURL = ".*"$', f'let releaseURL = "{url}"', text, flags=re.M)
text, n2 = re.subn(r'^let releaseChecksum = ".*"$', f'let releaseChecksum = "{checksum}"', text, flags=re.M)
if (n1, n2) != (1, 1):
    sys.exit("Package.swift: releaseURL or releaseChecksum not found")
open(path, "w", encoding="utf-8").write(text)
PY

echo "==> dist/$zip_name"
echo "    checksum $checksum"
echo "    Package.swift now points at $url"
echo "    commit Package.swift and bindings/swift/{Sources,Headers}, tag $version, attach the zip to the release"
