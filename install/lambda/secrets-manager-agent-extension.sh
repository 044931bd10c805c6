#!/bin/bash
# AWS Lambda external extension that runs the AWS Secrets Manager Agent.
#
# Layer layout (./package --binary aws_secretsmanager_agent builds it):
#   extensions/secrets-manager-agent-extension.sh   this script (mode 0755)
#   bin/secrets-manager-agent                       the compiled agent (0755)
#   aws/secretsmanageragent/config.toml             the agent's configuration
# Lambda unpacks layers into /opt, so the config lands at
# /opt/aws/secretsmanageragent/config.toml. The compiled agent carries the
# grants of one deployment, so build it for this one: with `deno task compile
# --config /opt/aws/secretsmanageragent/config.toml --working-dir /tmp` where
# that file is the layer's config (a build container of the same layout), and
# the function's variables that change the grants (AWS_REGION, say) set.
#
# Publish and attach it:
#   ./package --binary ./aws_secretsmanager_agent --output secrets-manager-agent-extension.zip
#   LAYER_VERSION_ARN=$(aws lambda publish-layer-version \
#     --layer-name secrets-manager-agent-extension \
#     --zip-file fileb://secrets-manager-agent-extension.zip \
#     --query LayerVersionArn --output text)
#   aws lambda update-function-configuration --function-name "$FUNCTION" \
#     --layers "$LAYER_VERSION_ARN"
#
# The function then calls http://localhost:2773/secretsmanager/get?secretId=ID
# with the header X-Aws-Parameters-Secrets-Token: $AWS_SESSION_TOKEN.
#
# The agent starts on the first INVOKE event, not during INIT, so no secret is
# fetched before a SnapStart snapshot; the function should retry its first
# call while the agent starts. On SHUTDOWN the agent gets SIGTERM and this
# script exits.
#
# Environment (all optional):
#   SECRETS_MANAGER_AGENT_CMD     agent command, split on blanks
#                                 (default /opt/bin/secrets-manager-agent)
#   SECRETS_MANAGER_AGENT_CONFIG  config file passed with --config when it
#                                 exists (default /opt/aws/secretsmanageragent/config.toml)
#   SECRETS_MANAGER_AGENT_PORT    port to wait on (default: http_port from the
#                                 config file, else 2773)
#   SECRETS_MANAGER_AGENT_WORKDIR working directory of the agent (default /tmp,
#                                 the only writable place in Lambda)
#   SECRETS_MANAGER_AGENT_START_TIMEOUT_SECONDS  wait for /ping (default 10)
#   SECRETS_MANAGER_AGENT_STOP_TIMEOUT_SECONDS   wait after SIGTERM (default 1)
set -euo pipefail

EXTENSION_NAME="$(basename "$0")" # Lambda requires the name to match the file
API="${AWS_LAMBDA_RUNTIME_API:-}"
AGENT_CMD="${SECRETS_MANAGER_AGENT_CMD:-/opt/bin/secrets-manager-agent}"
AGENT_CONFIG="${SECRETS_MANAGER_AGENT_CONFIG:-/opt/aws/secretsmanageragent/config.toml}"
AGENT_WORKDIR="${SECRETS_MANAGER_AGENT_WORKDIR:-/tmp}"
START_TIMEOUT_SECONDS="${SECRETS_MANAGER_AGENT_START_TIMEOUT_SECONDS:-10}"
STOP_TIMEOUT_SECONDS="${SECRETS_MANAGER_AGENT_STOP_TIMEOUT_SECONDS:-1}"

agent_pid=""
extension_id=""
curl_pid=""
event_file=""

log() {
  echo "[${EXTENSION_NAME}] $*"
}

fail() {
  echo "[${EXTENSION_NAME}] error: $*" >&2
  exit 1
}

# Tells Lambda why the extension is giving up (best effort), then exits 1.
report_and_exit() {
  local error_type="$1" message="$2" json_message
  json_message="${message//[\"\\]/}"
  echo "[${EXTENSION_NAME}] error: ${message}" >&2
  if [ -n "$extension_id" ]; then
    curl -sS -o /dev/null --max-time 5 -X POST \
      "http://${API}/2020-01-01/extension/exit/error" \
      -H "Lambda-Extension-Identifier: ${extension_id}" \
      -H "Lambda-Extension-Function-Error-Type: ${error_type}" \
      -d "{\"errorMessage\":\"${json_message}\",\"errorType\":\"${error_type}\"}" || true
  fi
  exit 1
}

is_whole_number() {
  [[ "$1" =~ ^[0-9]+$ ]]
}

[ -n "$API" ] || fail "AWS_LAMBDA_RUNTIME_API is not set: this script runs inside AWS Lambda"
is_whole_number "$START_TIMEOUT_SECONDS" || fail "SECRETS_MANAGER_AGENT_START_TIMEOUT_SECONDS must be a whole number"
is_whole_number "$STOP_TIMEOUT_SECONDS" || fail "SECRETS_MANAGER_AGENT_STOP_TIMEOUT_SECONDS must be a whole number"
read -r -a agent_argv <<<"$AGENT_CMD"
[ "${#agent_argv[@]}" -gt 0 ] || fail "SECRETS_MANAGER_AGENT_CMD is empty"
config_args=()
if [ -f "$AGENT_CONFIG" ]; then config_args=(--config "$AGENT_CONFIG"); fi

# The port the agent listens on: the variable, else http_port from the config.
agent_port() {
  local port="${SECRETS_MANAGER_AGENT_PORT:-}"
  if [ -z "$port" ] && [ -f "$AGENT_CONFIG" ]; then
    port="$(sed -n -E 's/^[[:space:]]*http_port[[:space:]]*=[[:space:]]*"?([0-9]+)"?[[:space:]]*(#.*)?$/\1/p' "$AGENT_CONFIG" | tail -n 1)"
  fi
  port="${port:-2773}"
  is_whole_number "$port" || fail "the agent port must be a number, got '${port}'"
  printf '%s' "$port"
}
PORT="$(agent_port)"

stop_agent() {
  local waited=0
  [ -n "$agent_pid" ] || return 0
  log "stopping the Secrets Manager Agent (pid ${agent_pid})"
  kill -TERM "$agent_pid" 2>/dev/null || true
  while kill -0 "$agent_pid" 2>/dev/null && [ "$waited" -lt $((STOP_TIMEOUT_SECONDS * 10)) ]; do
    sleep 0.1
    waited=$((waited + 1))
  done
  if kill -0 "$agent_pid" 2>/dev/null; then
    log "the agent did not stop within ${STOP_TIMEOUT_SECONDS}s: killing it"
    kill -KILL "$agent_pid" 2>/dev/null || true
  fi
  wait "$agent_pid" 2>/dev/null || true
  agent_pid=""
}

cleanup() {
  if [ -n "$curl_pid" ]; then kill "$curl_pid" 2>/dev/null || true; fi
  stop_agent
  if [ -n "$event_file" ]; then rm -f -- "$event_file"; fi
}
trap cleanup EXIT
trap 'log "received SIGTERM"; exit 0' TERM
trap 'exit 130' INT

start_agent() {
  local attempts=0 max_attempts=$((START_TIMEOUT_SECONDS * 10)) status
  log "starting the Secrets Manager Agent: ${agent_argv[*]} ${config_args[*]}"
  (cd "$AGENT_WORKDIR" && exec "${agent_argv[@]}" "${config_args[@]}" </dev/null) &
  agent_pid=$!
  until [ "$(curl -s --max-time 1 "http://127.0.0.1:${PORT}/ping" 2>/dev/null)" = "healthy" ]; do
    if ! kill -0 "$agent_pid" 2>/dev/null; then
      status=0
      wait "$agent_pid" || status=$?
      agent_pid=""
      report_and_exit Extension.AgentExited "the agent exited with status ${status} before answering on port ${PORT}"
    fi
    attempts=$((attempts + 1))
    if [ "$attempts" -ge "$max_attempts" ]; then
      report_and_exit Extension.AgentStartTimeout "the agent did not answer http://127.0.0.1:${PORT}/ping within ${START_TIMEOUT_SECONDS}s"
    fi
    sleep 0.1
  done
  log "the agent is serving on 127.0.0.1:${PORT}"
}

register() {
  local headers body
  headers="$(mktemp)"
  log "registering at http://${API}/2020-01-01/extension/register"
  if ! body="$(curl -sS -f --max-time 10 -D "$headers" -X POST \
    "http://${API}/2020-01-01/extension/register" \
    -H "Lambda-Extension-Name: ${EXTENSION_NAME}" \
    -H "Content-Type: application/json" \
    -d '{"events":["INVOKE","SHUTDOWN"]}')"; then
    rm -f -- "$headers"
    fail "registration with the Extensions API failed"
  fi
  extension_id="$(sed -n -E 's/^[Ll]ambda-[Ee]xtension-[Ii]dentifier:[[:space:]]*([^[:space:]]+)[[:space:]]*$/\1/p' "$headers" | head -n 1)"
  rm -f -- "$headers"
  [ -n "$extension_id" ] || fail "the register response has no Lambda-Extension-Identifier header: ${body}"
  log "registered as ${extension_id}"
}

register
event_file="$(mktemp)"
while true; do
  # In the background so that SIGTERM runs the trap at once, not after the
  # blocking request returns.
  curl -sS -f -o "$event_file" -X GET "http://${API}/2020-01-01/extension/event/next" \
    -H "Lambda-Extension-Identifier: ${extension_id}" &
  curl_pid=$!
  status=0
  wait "$curl_pid" || status=$?
  curl_pid=""
  [ "$status" -eq 0 ] || report_and_exit Extension.EventError "could not get the next event (curl exit ${status})"
  event="$(cat -- "$event_file")"
  if [[ "$event" =~ \"eventType\"[[:space:]]*:[[:space:]]*\"INVOKE\" ]]; then
    if [ -n "$agent_pid" ] && ! kill -0 "$agent_pid" 2>/dev/null; then
      status=0
      wait "$agent_pid" || status=$?
      log "the agent had exited (status ${status}): starting it again"
      agent_pid=""
    fi
    if [ -z "$agent_pid" ]; then start_agent; fi
  elif [[ "$event" =~ \"eventType\"[[:space:]]*:[[:space:]]*\"SHUTDOWN\" ]]; then
    log "received SHUTDOWN"
    stop_agent
    exit 0
  else
    log "ignoring an unknown event"
  fi
done
