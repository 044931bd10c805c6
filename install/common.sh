# shellcheck shell=bash disable=SC2034 # the constants are used by the scripts that source this
# Names and paths shared by ./install and ./uninstall (sourced, not run).
# The manifest lists what ./install created, one "<kind> <path-or-name>" a
# line; ./uninstall accepts only the entries listed in manifest_entry_allowed.

readonly AGENT_DIR=/opt/aws/secretsmanageragent
readonly AGENT_BIN=aws_secretsmanager_agent
readonly TOKEN_SCRIPT=awssmaseedtoken
readonly TOKEN_GROUP=awssmatokenreader
readonly AGENT_USER=awssmauser
readonly UNIT_DIR=/etc/systemd/system
readonly TOKEN_UNIT=awssmaseedtoken.service
readonly AGENT_UNIT=awssmaagent.service
readonly MANIFEST="${AGENT_DIR}/.install-manifest"

# Prints an error and exits non-zero.
fail() {
  echo "$(basename "$0"): error: $*" >&2
  exit 1
}

# Prints a warning and goes on.
warn() {
  echo "$(basename "$0"): warning: $*" >&2
}

# Prints a progress line.
note() {
  echo "$(basename "$0"): $*"
}

# Runs a command that changes the machine, or, when staging into --root,
# prints it instead.
run() {
  if [ -n "${staging_root}" ]; then
    echo "would run: $*"
  else
    "$@"
  fi
}

# Checks the --root value and prints it as an absolute path.
resolve_staging_root() {
  local dir="$1"
  [ -n "$dir" ] || fail "--root needs a directory"
  [ -d "$dir" ] || fail "--root ${dir}: not a directory"
  dir="$(cd "$dir" && pwd -P)"
  [ "$dir" != "/" ] || fail "--root /: run without --root to install on this machine"
  printf '%s' "$dir"
}

# Stops a live (not staged) run early unless it runs as root.
require_root_when_live() {
  if [ -z "${staging_root}" ] && [ "$(id -u)" -ne 0 ]; then
    fail "must be run as root (or give --root DIR to stage into a directory)"
  fi
}

# True when "<kind> <path>" is something ./install may have created.
manifest_entry_allowed() {
  local kind="$1" path="$2"
  case "${kind}:${path}" in
    dir:/opt | dir:/opt/aws | "dir:${AGENT_DIR}" | "dir:${AGENT_DIR}/bin") return 0 ;;
    dir:/etc | dir:/etc/systemd | "dir:${UNIT_DIR}") return 0 ;;
    "tree:${AGENT_DIR}/logs") return 0 ;;
    "file:${AGENT_DIR}/bin/${AGENT_BIN}" | "file:${AGENT_DIR}/bin/${TOKEN_SCRIPT}") return 0 ;;
    "file:${AGENT_DIR}/config.toml") return 0 ;;
    "file:${UNIT_DIR}/${TOKEN_UNIT}" | "file:${UNIT_DIR}/${AGENT_UNIT}") return 0 ;;
    "user:${AGENT_USER}" | "group:${TOKEN_GROUP}") return 0 ;;
    *) return 1 ;;
  esac
}
