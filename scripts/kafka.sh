#!/usr/bin/env bash
# Fetches, formats, starts and stops a one-node Apache Kafka broker (KRaft) for development and tests.
#
#   scripts/kafka.sh fetch    copy the pinned broker jars from Maven Central (once)
#   scripts/kafka.sh start    fetch, format (once) and start the broker; wait until it answers
#   scripts/kafka.sh stop     SIGTERM the broker this script started; wait until it exits
#   scripts/kafka.sh status   exit 0 when a broker answers on the configured address
#   scripts/kafka.sh reset    stop the broker and delete its data directory
#
# When KAFKA_BROKERS is set, the project uses that cluster and this script starts nothing.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KAFKA_VERSION=3.9.1
# Jars are shared between clones (they never change for a version); data belongs to this clone.
CACHE_DIR=${KAFKA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/brokerage-platform/kafka-$KAFKA_VERSION}
STATE_DIR=${KAFKA_STATE_DIR:-$ROOT/.kafka}
DATA_DIR=$STATE_DIR/data
PORT=${KAFKA_PORT:-9092}
CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-9093}
HEAP=${KAFKA_HEAP_OPTS:--Xms512m -Xmx1g}
START_TIMEOUT_S=${KAFKA_START_TIMEOUT_S:-90}
PID_FILE=$STATE_DIR/kafka.pid
LOG_FILE=$STATE_DIR/kafka.log

log() { printf '[kafka] %s\n' "$*" >&2; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

running_pid() {
  [[ -f $PID_FILE ]] || return 1
  local pid
  pid=$(cat "$PID_FILE")
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

fetch() {
  if [[ -f $CACHE_DIR/libs/.complete ]]; then return 0; fi
  command -v mvn >/dev/null || { log "Maven (mvn) is needed to fetch the broker jars"; exit 1; }
  command -v java >/dev/null || { log "Java 17+ is needed to run the broker"; exit 1; }
  log "fetching org.apache.kafka:kafka_2.13:$KAFKA_VERSION and its runtime dependencies into $CACHE_DIR"
  rm -rf "$CACHE_DIR/libs.tmp"
  mkdir -p "$CACHE_DIR"
  mvn -B -q -Dstyle.color=never -f "$ROOT/infra/kafka/pom.xml" -Dmaven.repo.local="$CACHE_DIR/m2" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$CACHE_DIR/libs.tmp"
  touch "$CACHE_DIR/libs.tmp/.complete"
  rm -rf "$CACHE_DIR/libs"
  mv "$CACHE_DIR/libs.tmp" "$CACHE_DIR/libs"
}

java_args() {
  local heap
  read -r -a heap <<<"$HEAP"
  JAVA_ARGS=("${heap[@]}" -XX:+UseG1GC -Djava.awt.headless=true
    "-Dlog4j.configuration=file:$ROOT/infra/kafka/log4j.properties" -cp "$CACHE_DIR/libs/*")
}

java_cmd() {
  java_args
  java "${JAVA_ARGS[@]}" "$@"
}

configure() {
  mkdir -p "$STATE_DIR" "$DATA_DIR"
  sed -e "s|@DATA_DIR@|$DATA_DIR|" -e "s|@PORT@|$PORT|g" -e "s|@CONTROLLER_PORT@|$CONTROLLER_PORT|g" \
    "$ROOT/infra/kafka/server.properties.in" >"$STATE_DIR/server.properties"
  if [[ ! -f $DATA_DIR/meta.properties ]]; then
    local cluster_id
    cluster_id=$(java_cmd kafka.tools.StorageTool random-uuid | tail -n 1)
    log "formatting $DATA_DIR (cluster $cluster_id)"
    java_cmd kafka.tools.StorageTool format -t "$cluster_id" -c "$STATE_DIR/server.properties" \
      --ignore-formatted >/dev/null
  fi
}

start() {
  if [[ -n ${KAFKA_BROKERS:-} ]]; then
    log "KAFKA_BROKERS=$KAFKA_BROKERS is set: using that cluster, starting nothing"
    return 0
  fi
  if running_pid >/dev/null; then
    log "already running (pid $(running_pid)) on 127.0.0.1:$PORT"
    return 0
  fi
  if port_open "$PORT"; then
    log "something already listens on 127.0.0.1:$PORT; using it"
    return 0
  fi
  fetch
  configure
  log "starting on 127.0.0.1:$PORT (log: $LOG_FILE)"
  # setsid: the broker must outlive the shell that started it and ignore its terminal's Ctrl-C.
  java_args
  setsid java "${JAVA_ARGS[@]}" kafka.Kafka "$STATE_DIR/server.properties" >"$LOG_FILE" 2>&1 </dev/null &
  echo $! >"$PID_FILE"
  local deadline=$((SECONDS + START_TIMEOUT_S))
  until grep -q 'Kafka Server started' "$LOG_FILE" 2>/dev/null && port_open "$PORT"; do
    if ! running_pid >/dev/null; then
      log "the broker exited during start; last lines of $LOG_FILE:"
      tail -n 30 "$LOG_FILE" >&2
      rm -f "$PID_FILE"
      exit 1
    fi
    if ((SECONDS > deadline)); then
      log "the broker did not answer within ${START_TIMEOUT_S}s; see $LOG_FILE"
      stop
      exit 1
    fi
    sleep 0.5
  done
  log "ready (pid $(cat "$PID_FILE"))"
}

stop() {
  local pid
  if ! pid=$(running_pid); then
    rm -f "$PID_FILE"
    return 0
  fi
  log "stopping pid $pid"
  kill -TERM "$pid"
  local deadline=$((SECONDS + 60))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS > deadline)); then
      log "still running after 60s; killing"
      kill -KILL "$pid" || true
      break
    fi
    sleep 0.3
  done
  rm -f "$PID_FILE"
  log "stopped"
}

status() {
  if port_open "$PORT"; then
    log "a broker answers on 127.0.0.1:$PORT"
  else
    log "no broker on 127.0.0.1:$PORT"
    return 1
  fi
}

case ${1:-} in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  reset) stop && rm -rf "$DATA_DIR" && log "deleted $DATA_DIR" ;;
  *)
    sed -n '2,10p' "$0" >&2
    exit 2
    ;;
esac
