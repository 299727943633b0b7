#!/usr/bin/env bash
# Installs what citybot needs on a Debian machine, skipping whatever is already there:
# PostgreSQL server + server-dev, pgvector built from Debian's own source package of the next suite
# (bookworm ships no pgvector binary), OpenThesaurus (mythes-de, for the citizens' everyday words),
# and Chromium and Node.js for the browser tests.
# The package mirror is the one this machine's apt sources already use; no host is named here.
set -euo pipefail

PG_MAJOR=${PG_MAJOR:-15}
PGVECTOR_SUITE=${PGVECTOR_SUITE:-trixie}
SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO="sudo"

have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

missing=()
for p in "postgresql-$PG_MAJOR" "postgresql-server-dev-$PG_MAJOR" build-essential dpkg-dev mythes-de; do
  have_pkg "$p" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

pgbin=/usr/lib/postgresql/$PG_MAJOR/bin
sharedir=$("$pgbin/pg_config" --sharedir)
if [[ ! -f $sharedir/extension/vector.control ]]; then
  echo "setup: building pgvector from Debian's $PGVECTOR_SUITE source package"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  # The first archive URI of the machine's own apt sources (deb822 or one-line format).
  uri=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  if [[ -z $uri ]]; then
    uri=$(awk '$1=="deb" && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
  fi
  [[ -n $uri ]] || { echo "setup: no Debian archive URI found in /etc/apt/sources*" >&2; exit 1; }
  mkdir -p "$work/lists/partial"
  printf 'deb-src %s %s main\n' "$uri" "$PGVECTOR_SUITE" >"$work/src.list"
  aptsrc=(-o Dir::Etc::SourceList="$work/src.list" -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists="$work/lists")
  apt-get "${aptsrc[@]}" update -qq
  (cd "$work" && apt-get "${aptsrc[@]}" source -qq pgvector 2>&1 | grep -v "unsandboxed" || true)
  src=$(find "$work" -maxdepth 1 -type d -name 'pgvector-*' | head -1)
  [[ -n $src ]] || { echo "setup: apt-get source pgvector produced no source tree" >&2; exit 1; }
  # OPTFLAGS="" avoids -march=native so the build runs on any machine of the same architecture.
  make -s -C "$src" PG_CONFIG="$pgbin/pg_config" OPTFLAGS="" >/dev/null
  $SUDO make -s -C "$src" PG_CONFIG="$pgbin/pg_config" install >/dev/null
fi

if [[ ${CITYBOT_SKIP_BROWSER:-} != 1 ]] && ! have_pkg chromium; then
  echo "setup: installing chromium for browser tests"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
# Node.js (any packaging; Debian's own when there is none) runs the browser tests' playwright-core.
if [[ ${CITYBOT_SKIP_BROWSER:-} != 1 ]] && ! { command -v node && command -v npm; } >/dev/null; then
  echo "setup: installing nodejs and npm for browser tests"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null
fi
echo "setup: ok (PostgreSQL $PG_MAJOR with pgvector at $pgbin)"
