#!/bin/sh
# `deno task compile --config FILE [--output PATH] [--target TRIPLE]
# [--working-dir DIR]`: builds the agent into one binary with the grants of
# one deployment baked in. A compiled binary takes no permission flags when it
# starts, so the grants are computed here, by the `--print-permissions` run
# the start script makes, for the config file the binary will be given, the
# folder it will run in (DIR, default the config file's folder, which is
# where the systemd unit runs it) and this shell's environment. The binary
# must then run with that config path, in that folder, with those variables.
#
# --output PATH  default ./aws_secretsmanager_agent in the project folder
# --target       a `deno compile --target` triple; default this machine's
#
# Relative paths are the caller's: `deno task` runs this in the project
# folder and names the folder it was started from in INIT_CWD.
set -eu
program=compile.sh
usage="usage: deno task compile --config FILE [--output PATH] [--target TRIPLE] [--working-dir DIR]"
project=$(cd "$(dirname "$0")/.." && pwd)
caller_dir=${INIT_CWD:-$PWD}

# One line on stderr, exit 1: what went wrong and how to call this.
fail() {
  echo "${program}: error: $* (${usage})" >&2
  exit 1
}

# PATH made absolute against the caller's folder.
from_caller() {
  case "$1" in
    /*) printf '%s' "$1" ;;
    *) printf '%s/%s' "$caller_dir" "$1" ;;
  esac
}

config=""
output=""
target=""
work_dir=""
while [ "$#" -gt 0 ]; do
  case "$1" in
    --config=* | --output=* | --target=* | --working-dir=*)
      name=${1%%=*}
      value=${1#*=}
      shift
      ;;
    --config | --output | --target | --working-dir)
      [ "$#" -ge 2 ] || fail "$1 needs a value"
      name=$1
      value=$2
      shift 2
      ;;
    *) fail "unknown argument: $1" ;;
  esac
  [ -n "$value" ] || fail "${name} needs a value"
  case "$name" in
    --config) config=$value ;;
    --output) output=$value ;;
    --target) target=$value ;;
    --working-dir) work_dir=$value ;;
  esac
done
[ -n "$config" ] || fail "--config FILE is required: the grants are computed for that deployment"
command -v deno >/dev/null || fail "deno is not on PATH"

config=$(from_caller "$config")
[ -f "$config" ] || fail "--config ${config}: no such file"
# The config's folder as `cd` names it, so the grants hold no `./` or `../`.
config_dir=$(cd "$(dirname "$config")" && pwd)
config="${config_dir}/$(basename "$config")"
if [ -z "$work_dir" ]; then work_dir=$config_dir; fi
work_dir=$(from_caller "$work_dir")
[ -d "$work_dir" ] || fail "--working-dir ${work_dir}: no such folder"
work_dir=$(cd "$work_dir" && pwd)
output=$(from_caller "${output:-${project}/aws_secretsmanager_agent}")

# Relative grants (./logs) resolve against the folder the computing process
# runs in, so it runs in the binary's working folder; its own stderr says why
# when it fails, and its status is this script's.
grants=$(cd "$work_dir" && deno run --quiet --no-prompt --allow-read --allow-env \
  --config "${project}/deno.json" "${project}/main.ts" \
  --print-permissions --config "$config") || exit $?

# The operator sees what the binary will be allowed before it exists.
{
  echo "${program}: baking these grants into ${output}:"
  printf '%s\n' "$grants"
} >&2

# The comment lines are for people; the rest are flags, each one word (grants
# never hold white space). `deno compile` takes the same permission flags as
# `deno run`, and the same V8 flags as the start script.
flags=$(printf '%s\n' "$grants" | grep -v '^#')
set -- --v8-flags=--optimize-for-size,--no-maglev
if [ -n "$target" ]; then set -- "$@" --target "$target"; fi
cd "$project"
# shellcheck disable=SC2086 # split the flags into words on purpose
exec deno compile $flags "$@" --output "$output" "${project}/main.ts"
