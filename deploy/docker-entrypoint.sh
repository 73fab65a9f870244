#!/bin/sh
# FusionXPay container entry point. One image, several roles:
#   api (default)  apply migrations (unless FXP_MIGRATE_ON_START=0), then serve the API with
#                  granian on 0.0.0.0:8000; GRANIAN_WORKERS (default 2) worker processes
#   worker         the Dramatiq workers + periodic scheduler (python -m app.workers.main ARGS)
#   sandbox        the sandbox card gateway on 0.0.0.0:8100 (one process: in-memory state)
#   migrate        apply the migrations and exit (compose one-shot, Kubernetes Job)
#   anything else  run as a command, e.g. `fusionxpay merchants create --name Shop`
set -eu

role="${1:-api}"
[ "$#" -gt 0 ] && shift

case "$role" in
  api)
    if [ "${FXP_MIGRATE_ON_START:-1}" = "1" ]; then
      fusionxpay migrate
    fi
    exec granian --interface asgi --host 0.0.0.0 --port 8000 \
      --workers "${GRANIAN_WORKERS:-2}" --loop uvloop "$@" app.entrypoints.http.asgi:app
    ;;
  worker)
    exec python -m app.workers.main "$@"
    ;;
  sandbox)
    exec python -m sandbox_gateway --host 0.0.0.0 --port 8100 "$@"
    ;;
  migrate)
    exec fusionxpay migrate
    ;;
  *)
    exec "$role" "$@"
    ;;
esac
