#!/usr/bin/env bash
# System packages CI needs (run as root by .ci/run; idempotent and quiet):
#   TeX Live + latexmk + lmodern: tests/unit/report/test_tables.py, tests/integration/test_commands.py (the paper build) and `snakemake paper`;
#   graphviz: `make dag` (snakemake --rulegraph | dot).
# Only missing packages are installed; a machine that has them all is left untouched.
set -euo pipefail

PACKAGES=(
  texlive-latex-base
  texlive-latex-recommended
  texlive-latex-extra
  latexmk
  lmodern
  graphviz
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  echo "apt_packages.sh: installing ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
