#!/bin/sh
# Creates or updates warden's JetStream streams, as the `ops` NATS user: services may only read
# their streams' info (a stream's config can republish or source into any subject). Runs in
# natsio/nats-box (compose's nats-provision, the k8s Job nats-provision); the test harness and
# scripts/stack.ts do the same through provisionStreams() in @warden/events.
# Env: NATS_URL, NATS_USER (ops), NATS_PASSWORD, REPLICAS (1; 3 on the k8s cluster).
set -eu
: "${REPLICAS:=1}"

stream() { # name subject
  if nats stream info "$1" >/dev/null 2>&1; then
    nats stream edit "$1" --force --subjects "$2" --max-age 7d --dupe-window 2m --replicas "$REPLICAS"
  else
    nats stream add "$1" --defaults --subjects "$2" --storage file --retention limits \
      --discard old --max-age 7d --dupe-window 2m --replicas "$REPLICAS"
  fi
}

tries=0
until nats account info >/dev/null 2>&1; do
  tries=$((tries + 1))
  [ "$tries" -le 60 ] || { echo "provision-streams: no JetStream at $NATS_URL after 2 minutes" >&2; exit 1; }
  sleep 2
done
stream WARDEN_USER 'warden.user.v1.>'
stream WARDEN_SESSION 'warden.session.v1.>'
stream WARDEN_AUTHZ 'warden.authz.v1.>'
echo "provision-streams: WARDEN_USER, WARDEN_SESSION, WARDEN_AUTHZ ready (replicas $REPLICAS)"
