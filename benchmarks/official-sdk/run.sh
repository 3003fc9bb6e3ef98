#!/usr/bin/env sh
# Compares paging 100,000 K/3 Cloud rows with ExecuteBillQuery through the
# kingdee-cloud crate against Kingdee's official Python SDK
# (kingdee-cdp-webapi-sdk, from PyPI), both against the crate's fake server
# on loopback. Needs python3 with venv and access to PyPI (once, for the
# install); not run by CI.
#
#   benchmarks/official-sdk/run.sh [--records N] [--limit ROWS_PER_PAGE]
#
# VENV (default: .venv-k3sdk in the repository root) holds the SDK.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
venv=${VENV:-"$root/.venv-k3sdk"}
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet "kingdee-cdp-webapi-sdk==8.2.0"
cd "$root"
exec cargo run --release -p benchmarks --bin official-sdk -- --python "$venv/bin/python" "$@"
