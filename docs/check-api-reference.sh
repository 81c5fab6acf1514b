#!/usr/bin/env bash
# Checks that the API reference DocFX generated (docs/api/, from `dotnet docfx docs/docfx.json`) has a page for every
# public type the packages declare in their PublicAPI.*.txt files. Prints the missing ones and exits 1 if any.
#
# Usage: bash docs/check-api-reference.sh   (after the site is built)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
api="$root/docs/api"
[ -d "$api" ] || { echo "check-api-reference: no $api; build the site first (dotnet docfx docs/docfx.json)" >&2; exit 2; }

# A type's line names it alone (no " -> "); DocFX names a generic type's page by its arity: PartFormat<TPart, TSettings> -> PartFormat-2.
types=$(cat "$root"/src/*/PublicAPI.Shipped.txt "$root"/src/*/PublicAPI.Unshipped.txt | grep -v '^#' | grep -v ' -> ' | grep -v '^$' | sort -u)
missing=0
count=0
while IFS= read -r type; do
  count=$((count + 1))
  page=$(echo "$type" | perl -pe 's/<([^<>]*)>/"-" . (($1 =~ tr\/,\/\/) + 1)/ge')
  if [ ! -f "$api/$page.yml" ]; then
    echo "check-api-reference: no page for $type (expected docs/api/$page.yml)"
    missing=$((missing + 1))
  fi
done <<< "$types"
echo "check-api-reference: $count public types, $missing without a page"
[ "$missing" -eq 0 ]
