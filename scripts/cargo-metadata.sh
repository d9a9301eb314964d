# What cargo says about this workspace, for the shell scripts that build,
# test and measure it. Source it, then call the functions from inside the
# workspace (the scripts cd to the repository root first):
#
#   source "$root/scripts/cargo-metadata.sh"
#   target_dir="$(cargo_target_dir)"
#
# The answers are cargo's own: CARGO_TARGET_DIR and a .cargo/config.toml
# build.target-dir are honoured exactly as cargo honours them.

# The workspace's own packages and target directory, as JSON (`--no-deps`:
# dependencies are not resolved, so no registry is needed).
workspace_metadata() {
  cargo metadata --format-version 1 --no-deps
}

# The directory cargo builds into: <root>/target unless CARGO_TARGET_DIR or
# build.target-dir names another.
cargo_target_dir() {
  workspace_metadata | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])'
}

# Succeeds if the workspace has a package named NAME.
workspace_has_package() { # NAME
  workspace_metadata | python3 -c '
import json, sys
sys.exit(0 if any(p["name"] == sys.argv[1] for p in json.load(sys.stdin)["packages"]) else 1)' "$1"
}

# The FIELD (version, repository, ...) of the workspace's package NAME, as its
# Cargo.toml gives it; fails if the workspace has no such package.
workspace_package_field() { # NAME FIELD
  workspace_metadata | python3 -c '
import json, sys
name, field = sys.argv[1:]
found = [p[field] for p in json.load(sys.stdin)["packages"] if p["name"] == name]
if not found:
    sys.exit(f"no package {name} in this workspace")
print(found[0])' "$1" "$2"
}
