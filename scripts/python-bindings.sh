# Installing the Python bindings into a virtual environment, for the scripts
# that test and measure them (bindings/test.sh, bench/bindings.sh). Source it
# after scripts/cargo-metadata.sh, from the repository root:
#
#   source "$root/scripts/python-bindings.sh"
#   install_python_bindings "$venv" "$target_dir"

# Makes VENV if it does not exist, installs the build requirements from
# offline/python-requirements.txt (pip takes them from a vendor folder's
# wheels when offline/env.sh set one up), then builds and installs
# ./bindings/python with the venv's maturin. CARGO_TARGET_DIR=TARGET_DIR: the
# library's dependencies and the generator that bindings/build.sh built are
# reused, not compiled again.
install_python_bindings() { # VENV TARGET_DIR
  local venv="$1" target_dir="$2"
  if [[ ! -x "$venv/bin/python" ]]; then
    echo "==> creating venv $venv"
    "${PYTHON:-python3}" -m venv "$venv"
  fi
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r offline/python-requirements.txt
  echo "==> pip install ./bindings/python (maturin: cargo build, uniffi-bindgen)"
  # The build backend (maturin) is the venv's; its Python hook runs the
  # `maturin` program, found on PATH.
  PATH="$venv/bin:$PATH" CARGO_TARGET_DIR="$target_dir" "$venv/bin/python" -m pip install -q \
    --disable-pip-version-check --force-reinstall --no-deps --no-build-isolation ./bindings/python
}
