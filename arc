#!/usr/bin/env bash
# Arc's command line from a checkout (`./arc serve`, `./arc token ...`): the built CLI, after `make build`.
exec node "$(dirname "$(readlink -f "$0")")/packages/cli/dist/main.js" "$@"
