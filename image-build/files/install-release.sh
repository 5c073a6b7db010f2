#!/bin/bash
# Install Anthias Edge from a wheelhouse into the release layout (run as root in the target):
#   /opt/anthias-edge/releases/<version>/   a venv holding this release
#   /opt/anthias-edge/venv -> releases/<version>   what the units run
#   /usr/local/bin/anthias-edge -> /opt/anthias-edge/venv/bin/anthias-edge
# Usage: install-release.sh WHEELHOUSE
# WHEELHOUSE holds exactly one anthias_edge-<version>-*.whl and the wheels of its
# dependencies for the target; pip reads nothing else (no index), so the install is the
# same every time.
set -euo pipefail

wheelhouse=${1:?usage: install-release.sh WHEELHOUSE}
root=/opt/anthias-edge

shopt -s nullglob
wheels=("$wheelhouse"/anthias_edge-*.whl)
if ((${#wheels[@]} != 1)); then
    echo "install-release.sh: expected one anthias_edge-*.whl in $wheelhouse, found ${#wheels[@]}" >&2
    exit 1
fi
wheel=${wheels[0]}
version=${wheel##*/anthias_edge-}
version=${version%%-*}
release=$root/releases/$version

# A rerun of the image stage starts the release afresh; other releases are left alone.
rm -rf "$release"
install -d -m 0755 "$root/releases"
python3 -m venv "$release"
"$release/bin/pip" install --quiet --disable-pip-version-check --no-index \
    --find-links "$wheelhouse" "$wheel"

# Replace the symlinks by rename, so nothing ever sees them missing.
ln -sfn "releases/$version" "$root/venv.new"
mv -T "$root/venv.new" "$root/venv"
ln -sfn "$root/venv/bin/anthias-edge" /usr/local/bin/anthias-edge.new
mv -T /usr/local/bin/anthias-edge.new /usr/local/bin/anthias-edge

echo "$("$root/venv/bin/anthias-edge" --version) installed in $release"
