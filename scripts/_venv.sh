# Sourced by the scripts beside it: make sure .venv exists and holds exactly the versions in uv.lock.
set -euo pipefail

find_python() {
  for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    if [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  echo "Python 3.11 or newer is required" >&2
  return 1
}

# ensure_venv [EXTRA...]: the locked dependencies, this checkout (editable) and the extras named.
# uv itself comes from PyPI with pip; `--locked` fails when uv.lock no longer matches pyproject.toml
# (then run `.venv/bin/uv lock`).
ensure_venv() {
  local stamp wanted extra
  local -a extras=()
  for extra in "$@"; do extras+=(--extra "$extra"); done
  wanted="$(cat pyproject.toml uv.lock | sha256sum | cut -c1-16)-$*"
  stamp=.venv/.postmortems-installed
  if [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ]; then
    return 0
  fi
  echo "installing dependencies into .venv (first run, or after uv.lock changed)..." >&2
  if [ ! -x .venv/bin/python ]; then
    quietly "$(find_python)" -m venv .venv
  fi
  if [ ! -x .venv/bin/uv ]; then
    quietly .venv/bin/python -m pip install --quiet --disable-pip-version-check "uv>=0.9,<1"
  fi
  # --inexact: keep what pip put there (uv itself) even when no extra asks for it.
  UV_PROJECT_ENVIRONMENT=.venv quietly .venv/bin/uv sync --quiet --locked --inexact --python .venv/bin/python \
    "${extras[@]}"
  echo "$wanted" >"$stamp"
  echo "installed." >&2
}

# quietly COMMAND...: run it with its output kept aside, shown only when it fails.
quietly() {
  local log status=0
  log="$(mktemp)"
  "$@" >"$log" 2>&1 || status=$?
  if [ "$status" -ne 0 ]; then
    cat "$log" >&2
    echo "failed ($status): $*" >&2
  fi
  rm -f "$log"
  return "$status"
}
