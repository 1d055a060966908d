#!/usr/bin/env bash
# Installs the Python-based tools the project uses (cfn-lint, the SAM CLI)
# into a virtual environment in the cache, pinned, once.
set -euo pipefail
CACHE=${CACHE:-${ONBOARDING_CACHE:-$HOME/.cache/onboarding}}
VENV=$CACHE/tools-venv
CFN_LINT=1.58.0
SAM_CLI=1.170.0
stamp=$VENV/.installed-$CFN_LINT-$SAM_CLI
[ -f "$stamp" ] && exit 0
command -v python3 >/dev/null || { echo "tools: python3 is required" >&2; exit 1; }
echo "tools: installing cfn-lint $CFN_LINT and aws-sam-cli $SAM_CLI into $VENV" >&2
mkdir -p "$CACHE"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "cfn-lint==$CFN_LINT" "aws-sam-cli==$SAM_CLI"
touch "$stamp"
