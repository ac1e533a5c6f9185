#!/usr/bin/env sh
# Print the path of a uv binary, installing uv into a project-local tool venv if none is found.
# Needs only python3 (with venv/pip) and access to PyPI.
set -eu
UV_VERSION="${UV_VERSION:-0.13.9}"
here="$(cd "$(dirname "$0")/.." && pwd)"
if command -v uv >/dev/null 2>&1; then command -v uv; exit 0; fi
tool="$here/.tools/uv"
if [ ! -x "$tool/bin/uv" ]; then
  echo "installing uv $UV_VERSION into .tools/uv ..." >&2
  python3 -m venv "$tool" >&2
  "$tool/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION" >&2
fi
echo "$tool/bin/uv"
