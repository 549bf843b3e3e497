#!/usr/bin/env bash
# Prints a markdown table of sizes, raw and gzip -9, of the built wasm, its wasm-bindgen JS, the wasm as
# JS (pkg/querywire_wasm.js, scripts/build-js.mjs), the built package JS (dist/: the package; its
# dist/index.js holds the wasm) and the js/ shim sources (the README quotes it). Run scripts/build.sh first. Any
# files given as arguments replace the list.
#   bash scripts/size.sh [file...]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

if [ $# -gt 0 ]; then
  files=("$@")
else
  files=()
  for f in pkg/querywire_bg.wasm pkg/querywire.js pkg/querywire_wasm.js; do [ -f "$f" ] && files+=("$f"); done
  for d in dist js; do
    [ -d "$d" ] || continue
    while IFS= read -r f; do files+=("$f"); done < <(find "$d" -type f \( -name '*.js' -o -name '*.mjs' \) | sort)
  done
fi
[ ${#files[@]} -gt 0 ] || { echo "size.sh: nothing to measure (run scripts/build.sh)" >&2; exit 1; }

human() { awk -v b="$1" 'BEGIN { if (b >= 1024) printf "%.1f KiB", b / 1024; else printf "%d B", b }'; }

printf '| file | raw | gzip -9 |\n| --- | ---: | ---: |\n'
raw_total=0 gz_total=0 js_raw=0 js_gz=0 dist_raw=0 dist_gz=0
for f in "${files[@]}"; do
  raw=$(wc -c <"$f")
  gz=$(gzip -9 -c "$f" | wc -c)
  printf '| `%s` | %s | %s |\n' "$f" "$(human "$raw")" "$(human "$gz")"
  raw_total=$((raw_total + raw)) gz_total=$((gz_total + gz))
  case "$f" in
    js/*) js_raw=$((js_raw + raw)) js_gz=$((js_gz + gz)) ;;
    dist/*) dist_raw=$((dist_raw + raw)) dist_gz=$((dist_gz + gz)) ;;
  esac
done
[ "$js_raw" -gt 0 ] && printf '| js/ shim sources, all files | %s | %s |\n' "$(human "$js_raw")" "$(human "$js_gz")"
if [ "$dist_raw" -gt 0 ]; then
  printf '| **package: dist/, all files (the wasm inside dist/index.js)** | **%s** | **%s** |\n' "$(human "$dist_raw")" "$(human "$dist_gz")"
else
  printf '| **total** | **%s** | **%s** |\n' "$(human "$raw_total")" "$(human "$gz_total")"
fi

# Per package entry: what importing it loads. The package ships dist/ (scripts/build-js.mjs: one
# minified file per entry, the glue and the wasm inside dist/index.js); the unbuilt sources (js/ + the
# glue + the wasm as JS, what the tests and an app aliasing js/ load) are measured the same way below
# it, for comparison. An entry's files are the static import closure of its file, plus, for js/, the
# glue and pkg/querywire_wasm.js when the closure holds the loader (js/loadWasm.js). Modules the closure imports with
# import() (the connectors) are loaded only when called: each gets a row of its own, measured alone.
# Issue 10's `createRealtime` target (<= 40 KB gzip) is the `querywire` row. Only without
# arguments, and only with node.
if [ $# -eq 0 ] && command -v node >/dev/null 2>&1 && [ -f js/index.js ]; then
  row() { # label, files...
    local label="$1" raw=0 gz=0 f; shift
    for f in "$@"; do raw=$((raw + $(wc -c <"$f"))) gz=$((gz + $(gzip -9 -c "$f" | wc -c))); done
    printf '| %s | %s| %s | %s |\n' "$label" "$(printf '%s ' "${@#js/}" | sed 's#pkg/querywire_wasm.js#wasm#; s#pkg/querywire.js#glue#')" "$(human "$raw")" "$(human "$gz")"
  }
  for dir in dist js; do
    [ -f "$dir/index.js" ] || continue
    if [ "$dir" = dist ]; then
      printf '\n| entry (the package: dist/) | loads | raw | gzip -9 |\n| --- | --- | ---: | ---: |\n'
    else
      printf '\n| entry (unbuilt: js/ sources + glue) | loads | raw | gzip -9 |\n| --- | --- | ---: | ---: |\n'
    fi
    lazy_seen=()
    for entry in index react devtools replay; do
      [ -f "$dir/$entry.js" ] || continue
      # Line 1: the static closure; line 2: the import() targets found in it (not in the closure).
      # Minified files hold several statements per line, so a static import is found after ; or } too.
      mapfile -t out < <(node -e '
        const fs = require("fs"), path = require("path"), seen = new Set(), lazy = new Set()
        const walk = (f) => { if (seen.has(f)) return; seen.add(f); const src = fs.readFileSync(f, "utf8")
          for (const m of src.matchAll(/(?:^|[\n;}])\s*(?:import|export)\b[^;\n]*?from\s*["\x27](\.\/[^"\x27]+)["\x27]/g)) walk(path.join(path.dirname(f), m[1]))
          for (const m of src.matchAll(/\bimport\(\s*["\x27](\.\/[^"\x27]+\.js)["\x27]\s*\)/g)) lazy.add(path.join(path.dirname(f), m[1])) }
        walk(process.argv[1]); console.log([...seen].sort().join(" ")); console.log([...lazy].filter((f) => !seen.has(f)).sort().join(" "))' "$dir/$entry.js")
      read -r -a closure <<<"${out[0]}"
      read -r -a lazy <<<"${out[1]:-}"
      wasm=()
      case "$dir: ${closure[*]} " in
        "js:"*" js/loadWasm.js "*) for f in pkg/querywire_wasm.js pkg/querywire.js; do [ -f "$f" ] && wasm+=("$f"); done ;;
      esac
      name="querywire"; [ "$entry" = index ] || name="querywire/$entry"
      row "\`$name\`" "${wasm[@]}" "${closure[@]}"
      for f in "${lazy[@]}"; do
        case " ${lazy_seen[*]} " in *" $f "*) continue ;; esac
        lazy_seen+=("$f")
        m=$(basename "$f" .js)
        case "$m" in
          shareSession) what="the \`shareConnection\` option" ;; # js/share.js loads it
          *) what="\`rt.$m()\`" ;;
        esac
        row "+ $what (loaded on first use)" "$f"
      done
    done
  done
fi
