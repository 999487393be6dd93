#!/usr/bin/env bash
# Fetch the pinned front-end libraries from the npm registry with `npm pack` and copy their
# built files and licences into src/franchise/static/vendor/<name>/. The results are
# committed, so serving Franchise never needs Node; run this only to change a version.
set -euo pipefail
cd "$(dirname "$0")/.."

# name | npm package@version | files inside the tarball's package/ folder
PACKAGES=(
    "htmx|htmx.org@2.0.11|dist/htmx.min.js LICENSE"
    "pico|@picocss/pico@2.1.1|css/pico.min.css LICENSE.md"
    "chartjs|chart.js@4.6.1|dist/chart.umd.min.js LICENSE.md"
)

DEST=src/franchise/static/vendor
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

for entry in "${PACKAGES[@]}"; do
    IFS="|" read -r name spec files <<<"$entry"
    echo "vendoring $spec -> $DEST/$name"
    tarball=$(cd "$WORK" && npm pack --silent "$spec" | tail -n 1)
    mkdir -p "$WORK/$name"
    tar -xzf "$WORK/$tarball" -C "$WORK/$name"
    rm -rf "${DEST:?}/$name"
    mkdir -p "$DEST/$name"
    for file in $files; do
        cp "$WORK/$name/package/$file" "$DEST/$name/"
    done
    # Record exactly what was fetched, so a reviewer can check the files against the registry.
    integrity=$(cd "$WORK" && npm view "$spec" dist.integrity)
    printf '%s\n%s\n' "$spec" "$integrity" >"$DEST/$name/VERSION"
done
