#!/bin/sh
# `deno task start [--config FILE]`: computes the agent's grants for this
# deployment (its configuration file and environment), then becomes the agent
# under exactly those grants. Deno fixes permissions when a process starts, so
# the grants are computed first, by a short-lived `--print-permissions` run
# that may read files and variables but reach no network; `exec` then
# replaces this shell with the agent, so no second process stays behind.
set -eu
cd "$(dirname "$0")/.."
# The same V8 flags as the agent's run: Deno keeps one compiled-code entry per
# module, checked against the flags, so runs that differ in flags recompile the
# modules both load (main.ts, the config loader) for each other.
v8=--v8-flags=--optimize-for-size,--no-maglev
flags=$(deno run --quiet --no-prompt --allow-read --allow-env "$v8" main.ts --print-permissions "$@")
# The printed set's comment lines are for people; the rest are flags.
# shellcheck disable=SC2046 # each flag is one word: grants never hold white space
exec deno run $(printf '%s\n' "$flags" | grep -v '^#') \
  "$v8" main.ts "$@"
