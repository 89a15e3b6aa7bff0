#!/usr/bin/env bash
# Fetches, formats, starts and stops a one-node Apache Kafka broker (KRaft) for development and tests.
#
#   scripts/kafka.sh fetch    copy the pinned broker jars from Maven Central (once)
#   scripts/kafka.sh start    fetch, format (once) and start the broker; wait until it answers
#   scripts/kafka.sh stop     SIGTERM the broker this script started; wait until it exits
#   scripts/kafka.sh status   exit 0 when a broker answers on the configured address
#   scripts/kafka.sh reset    stop the broker and delete its data directory
#
# KAFKA_SASL_ADMIN_PASSWORD=... turns SASL/SCRAM and ACLs on for a new broker (one test's dedicated
# broker; infra/kafka/sasl.properties.in): clients must sign in, `admin` is the super user.
#   scripts/kafka.sh scram-user NAME FILE   set a SCRAM user's credential (see scram_user below)
#
# Cluster mode (`npm run dev -- --cluster`, the chaos test): three nodes, each a broker and a
# controller (quorum of three), replication factor 3, min.insync.replicas 2, on 127.0.0.1:19092,
# 19094 and 19096 (KAFKA_CLUSTER_PORT moves them), Prometheus metrics on 19098, 19099 and 19100,
# data under .kafka-cluster/node-N.
#
#   scripts/kafka.sh cluster start|stop|status|reset   the whole cluster, as above
#   scripts/kafka.sh cluster brokers                   print its bootstrap list
#   scripts/kafka.sh cluster kill N                    kill -9 node N (a crash)
#   scripts/kafka.sh cluster wipe N                    kill -9 node N and delete its data (server loss)
#   scripts/kafka.sh cluster start-node N              start node N again (formatting it when empty)
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
TEMPLATE=$ROOT/infra/kafka/server.properties.in
# Where the broker serves Prometheus metrics (JMX exporter agent); none when empty.
METRICS_PORT=${KAFKA_METRICS_PORT:-}
NODE_ID=1
VOTERS=

CLUSTER_NODES=3
CLUSTER_DIR=${KAFKA_CLUSTER_STATE_DIR:-$ROOT/.kafka-cluster}
CLUSTER_PORT=${KAFKA_CLUSTER_PORT:-19092}

log() { printf '[kafka] %s\n' "$*" >&2; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

running_pid() {
  [[ -f $PID_FILE ]] || return 1
  local pid
  pid=$(cat "$PID_FILE")
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

JMX_EXPORTER_VERSION=1.0.1
JMX_EXPORTER_JAR=$CACHE_DIR/agent/jmx_prometheus_javaagent-$JMX_EXPORTER_VERSION.jar

# The Prometheus JMX exporter agent, for brokers started with a metrics port (KAFKA_METRICS_PORT).
fetch_metrics_agent() {
  if [[ -f $JMX_EXPORTER_JAR ]]; then return 0; fi
  log "fetching io.prometheus.jmx:jmx_prometheus_javaagent:$JMX_EXPORTER_VERSION into $CACHE_DIR/agent"
  mvn -B -q -Dstyle.color=never -Dmaven.repo.local="$CACHE_DIR/m2" dependency:copy \
    -Dartifact="io.prometheus.jmx:jmx_prometheus_javaagent:$JMX_EXPORTER_VERSION" \
    -DoutputDirectory="$CACHE_DIR/agent"
}

fetch() {
  if [[ -n $METRICS_PORT ]]; then fetch_metrics_agent; fi
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

# JAVA_ARGS for a tool (java_cmd) or, with `broker`, for the broker itself (with its metrics agent).
java_args() {
  local heap agent=()
  read -r -a heap <<<"$HEAP"
  if [[ ${1:-} == broker && -n $METRICS_PORT ]]; then
    agent=("-javaagent:$JMX_EXPORTER_JAR=127.0.0.1:$METRICS_PORT:$ROOT/infra/kafka/jmx-exporter.yml")
  fi
  JAVA_ARGS=("${heap[@]}" "${agent[@]}" -XX:+UseG1GC -Djava.awt.headless=true
    "-Dlog4j.configuration=file:$ROOT/infra/kafka/log4j.properties" -cp "$CACHE_DIR/libs/*")
}

java_cmd() {
  java_args
  java "${JAVA_ARGS[@]}" "$@"
}

# The cluster id a node is formatted with: a new one for the one-node broker, the cluster's own
# (kept in .kafka-cluster/cluster.id) for a node of the cluster, so a wiped node rejoins it.
cluster_id() {
  if [[ -n ${CLUSTER_ID_FILE:-} ]]; then
    [[ -f $CLUSTER_ID_FILE ]] || java_cmd kafka.tools.StorageTool random-uuid | tail -n 1 >"$CLUSTER_ID_FILE"
    cat "$CLUSTER_ID_FILE"
  else
    java_cmd kafka.tools.StorageTool random-uuid | tail -n 1
  fi
}

configure() {
  mkdir -p "$STATE_DIR" "$DATA_DIR"
  sed -e "s|@DATA_DIR@|$DATA_DIR|" -e "s|@PORT@|$PORT|g" -e "s|@CONTROLLER_PORT@|$CONTROLLER_PORT|g" \
    -e "s|@NODE_ID@|$NODE_ID|g" -e "s|@VOTERS@|$VOTERS|g" "$TEMPLATE" >"$STATE_DIR/server.properties"
  local format_args=()
  if [[ -n ${KAFKA_SASL_ADMIN_PASSWORD:-} ]]; then
    # SASL/SCRAM and ACLs: the overlay's settings, appended, replace the template's (the last wins).
    [[ $KAFKA_SASL_ADMIN_PASSWORD =~ ^[A-Za-z0-9._-]+$ ]] || {
      log "KAFKA_SASL_ADMIN_PASSWORD may hold only letters, digits, '.', '_' and '-'"
      exit 2
    }
    sed -e "s|@PORT@|$PORT|g" -e "s|@CONTROLLER_PORT@|$CONTROLLER_PORT|g" \
      -e "s|@ADMIN_PASSWORD@|$KAFKA_SASL_ADMIN_PASSWORD|g" "$ROOT/infra/kafka/sasl.properties.in" \
      >>"$STATE_DIR/server.properties"
    local mechanism
    for mechanism in SCRAM-SHA-256 SCRAM-SHA-512; do
      format_args+=(--add-scram "$mechanism=[name=admin,password=$KAFKA_SASL_ADMIN_PASSWORD]")
    done
  fi
  if [[ ! -f $DATA_DIR/meta.properties ]]; then
    local cluster_id
    cluster_id=$(cluster_id)
    log "formatting $DATA_DIR (cluster $cluster_id)"
    java_cmd kafka.tools.StorageTool format -t "$cluster_id" -c "$STATE_DIR/server.properties" \
      --ignore-formatted "${format_args[@]}" >/dev/null
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
  launch
}

# Starts the configured node and waits until it answers.
launch() {
  log "starting on 127.0.0.1:$PORT (log: $LOG_FILE)"
  # setsid: the broker must outlive the shell that started it and ignore its terminal's Ctrl-C.
  java_args broker
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
      log "the broker did not answer within ${START_TIMEOUT_S}s; last lines of $LOG_FILE:"
      tail -n 30 "$LOG_FILE" >&2
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

# Points the functions above at node N of the cluster.
select_node() {
  local n=$1
  [[ $n =~ ^[1-3]$ ]] || { log "no node $n: the cluster has nodes 1 to $CLUSTER_NODES"; exit 2; }
  NODE_ID=$n
  STATE_DIR=$CLUSTER_DIR/node-$n
  DATA_DIR=$STATE_DIR/data
  PORT=$((CLUSTER_PORT + 2 * (n - 1)))
  CONTROLLER_PORT=$((PORT + 1))
  METRICS_PORT=$((CLUSTER_PORT + 5 + n))
  PID_FILE=$STATE_DIR/kafka.pid
  LOG_FILE=$STATE_DIR/kafka.log
  TEMPLATE=$ROOT/infra/kafka/cluster.properties.in
  CLUSTER_ID_FILE=$CLUSTER_DIR/cluster.id
  HEAP=${KAFKA_HEAP_OPTS:--Xms256m -Xmx768m}
  local voters=() i
  for ((i = 1; i <= CLUSTER_NODES; i++)); do
    voters+=("$i@127.0.0.1:$((CLUSTER_PORT + 2 * (i - 1) + 1))")
  done
  VOTERS=$(IFS=,; echo "${voters[*]}")
}

cluster_brokers() {
  local brokers=() i
  for ((i = 1; i <= CLUSTER_NODES; i++)); do brokers+=("127.0.0.1:$((CLUSTER_PORT + 2 * (i - 1)))"); done
  (IFS=,; echo "${brokers[*]}")
}

# Starts node N unless it runs. Nodes start in the background together: a node's controller waits
# for a quorum, so each one's "started" line appears only once two of them are up.
cluster_launch_node() {
  select_node "$1"
  if running_pid >/dev/null; then return 0; fi
  if port_open "$PORT"; then
    log "something else listens on 127.0.0.1:$PORT"
    exit 1
  fi
  configure
  launch
}

cluster() {
  local command=${1:-} n=${2:-}
  mkdir -p "$CLUSTER_DIR"
  case $command in
    start)
      fetch
      fetch_metrics_agent
      (select_node 1 && cluster_id >/dev/null)
      local pids=() i
      for ((i = 1; i <= CLUSTER_NODES; i++)); do
        (cluster_launch_node "$i") &
        pids+=($!)
      done
      local failed=0
      for i in "${pids[@]}"; do wait "$i" || failed=1; done
      ((failed == 0)) || { log "the cluster did not start"; exit 1; }
      log "cluster ready: $(cluster_brokers)"
      ;;
    stop)
      # Together: a node stopping alone after the others would wait for a quorum that is gone.
      for ((i = 1; i <= CLUSTER_NODES; i++)); do (select_node "$i" && stop) & done
      wait
      ;;
    status)
      local down=0
      for ((i = 1; i <= CLUSTER_NODES; i++)); do (select_node "$i" && status) || down=1; done
      return $down
      ;;
    reset)
      cluster stop
      rm -rf "$CLUSTER_DIR"
      log "deleted $CLUSTER_DIR"
      ;;
    brokers) cluster_brokers ;;
    kill | wipe)
      select_node "$n"
      local pid
      if pid=$(running_pid); then
        kill -KILL "$pid"
        while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
        log "node $n (pid $pid) killed"
      fi
      rm -f "$PID_FILE"
      if [[ $command == wipe ]]; then
        rm -rf "$DATA_DIR"
        log "node $n data deleted"
      fi
      ;;
    start-node)
      fetch
      fetch_metrics_agent
      cluster_launch_node "$n"
      ;;
    *)
      sed -n '2,24p' "$0" >&2
      exit 2
      ;;
  esac
}

# Creates or updates a SCRAM user on a running cluster (`npm run provision` calls it: kafkajs cannot):
# the credential file holds `SCRAM-SHA-256=iterations=8192,password=...`; KAFKA_ADMIN_BOOTSTRAP
# and KAFKA_ADMIN_CONFIG (a client properties file) reach the cluster as a super user.
scram_user() {
  fetch
  HEAP="-Xmx256m"
  java_cmd kafka.admin.ConfigCommand --bootstrap-server "${KAFKA_ADMIN_BOOTSTRAP:?}" \
    --command-config "${KAFKA_ADMIN_CONFIG:?}" --alter --entity-type users --entity-name "$1" \
    --add-config-file "$2" >/dev/null
  log "SCRAM user $1 set"
}

case ${1:-} in
  cluster)
    shift
    cluster "$@"
    ;;
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  reset) stop && rm -rf "$DATA_DIR" && log "deleted $DATA_DIR" ;;
  scram-user) scram_user "${2:?user name}" "${3:?credential file}" ;;
  *)
    sed -n '2,24p' "$0" >&2
    exit 2
    ;;
esac
