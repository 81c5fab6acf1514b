#!/usr/bin/env bash
# Compiles every ```csharp / ```cs block of README.md and docs/**/*.md, each as a console app of its own, and names
# the file and line of every block that does not compile.
#
# A block compiles as it would in a fresh `dotnet new console` app (top-level statements, implicit usings, nullable
# on) that references the library's projects (every src/*/*.csproj) and ASP.NET Core's shared framework (for the
# hosting and web snippets). No native torch backend is referenced: the blocks are compiled, never run. Blocks that
# are fragments are marked ```text in the pages, shell commands ```bash, so they are not picked up here.
#
# Every generated project goes into one generated solution, built by a single `dotnet build`. The library's projects
# are built once, into the scratch folder (--artifacts-path), so nothing under src/ is written.
#
# Usage: bash docs/check-code-blocks.sh [--built] [--keep] [FILE.md ...]
#   --built   reference the library's assemblies already built in src/*/bin/Release/<tfm>/ instead of its projects
#             (nothing of the library is rebuilt; build the solution in Release first)
#   --keep    keep the scratch folder and print where it is
#   FILE.md   check only these files (default: README.md, src/PackageReadme.md and docs/**/*.md, generated folders left out)
# Environment: JOBS=N limits the build to N parallel nodes (default: MSBuild's own choice).
# Exit code 0 when every block compiles, 1 when one does not, 2 on a usage error.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
built=0
keep=0
files=()
for arg in "$@"; do
  case "$arg" in
    --built) built=1 ;;
    --keep) keep=1 ;;
    -h|--help) sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "check-code-blocks: unknown option '$arg'" >&2; exit 2 ;;
    *) files+=("$arg") ;;
  esac
done

cd "$root"
if [ "${#files[@]}" -eq 0 ]; then
  files=(README.md src/PackageReadme.md)
  while IFS= read -r file; do files+=("$file"); done < <(
    find docs -name '*.md' -not -path 'docs/_site/*' -not -path 'docs/api/*' -not -path 'docs/obj/*' | sort)
fi
for file in "${files[@]}"; do
  [ -f "$file" ] || { echo "check-code-blocks: no file '$file'" >&2; exit 2; }
done

framework=$(sed -n 's:.*<TargetFramework>\(.*\)</TargetFramework>.*:\1:p' Directory.Build.props | head -n 1)
framework=${framework:-net10.0}
work=$(mktemp -d "${TMPDIR:-/tmp}/metriclearning-blocks.XXXXXX")
if [ "$keep" -eq 1 ]; then
  echo "check-code-blocks: scratch folder $work"
else
  trap 'rm -rf "$work"' EXIT
fi

# --- extract: one folder per block, its first line a #line directive so that errors name the page and its line ---
# The manifest holds one line per block: folder, page, line of the block's first code line.
awk -v out="$work" '
  function close_block() { close(program); inblock = 0 }
  FNR == 1 { if (inblock) close_block() }
  !inblock && match($0, /^[ \t]*```[ \t]*(csharp|cs|c#)[ \t]*$/) {
    count++
    indent = $0; sub(/```.*/, "", indent)
    name = sprintf("b%03d", count)
    system("mkdir -p \"" out "/" name "\"")
    program = out "/" name "/Program.cs"
    printf "#line %d \"%s\"\n", FNR + 1, FILENAME > program
    printf "%s\t%s\t%d\n", name, FILENAME, FNR + 1 >> (out "/manifest.tsv")
    inblock = 1
    next
  }
  inblock && $0 ~ /^[ \t]*```[ \t]*$/ { close_block(); next }
  inblock {
    line = $0
    if (indent != "" && index(line, indent) == 1) line = substr(line, length(indent) + 1)
    print line > program
  }
  END { if (inblock) close_block() }
' "${files[@]}"

if [ ! -s "$work/manifest.tsv" ]; then
  echo "check-code-blocks: no C# blocks in ${files[*]}"
  exit 0
fi
blocks=$(wc -l < "$work/manifest.tsv")

# --- what every block project references --------------------------------------------------------------------------
references=""
if [ "$built" -eq 1 ]; then
  # The library's assemblies as built, each once (the newest copy, since every project's bin holds copies of the
  # assemblies it references), and the packages their public signatures mention.
  declare -A seen=()
  # shellcheck disable=SC2012 # names are ours: no spaces or newlines
  for dll in $(ls -t src/*/bin/Release/"$framework"/MetricLearning*.dll 2>/dev/null); do
    name=$(basename "$dll")
    [ -n "${seen[$name]:-}" ] && continue
    seen[$name]=1
    references+="    <Reference Include=\"${name%.dll}\" HintPath=\"$root/$dll\" />"$'\n'
  done
  if [ -z "$references" ]; then
    echo "check-code-blocks: no built assemblies in src/*/bin/Release/$framework/; build in Release first, or drop --built" >&2
    exit 2
  fi
  version() { # the version Directory.Packages.props pins for a package
    local v
    v=$(sed -n "s:.*<PackageVersion Include=\"$1\" Version=\"\([^\"]*\)\".*:\1:p" Directory.Packages.props | head -n 1)
    if [[ "$v" == '$(TorchSharpVersion)' ]]; then
      v=$(sed -n 's:.*<TorchSharpVersion>\(.*\)</TorchSharpVersion>.*:\1:p' Directory.Packages.props | head -n 1)
    fi
    echo "$v"
  }
  for package in TorchSharp TorchVision Microsoft.Extensions.AI.Abstractions Microsoft.Extensions.VectorData.Abstractions; do
    references+="    <PackageReference Include=\"$package\" Version=\"$(version "$package")\" />"$'\n'
  done
else
  for project in src/*/*.csproj; do
    references+="    <ProjectReference Include=\"$root/$project\" />"$'\n'
  done
fi

# Shared by every block project (the scratch folder is outside the repository, so its Directory.Build.props and
# central package versions do not apply to the blocks).
cat > "$work/Directory.Build.props" <<XML
<Project>
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>$framework</TargetFramework>
    <ImplicitUsings>enable</ImplicitUsings>
    <Nullable>enable</Nullable>
    <IsPackable>false</IsPackable>
    <GenerateDocumentationFile>false</GenerateDocumentationFile>
    <TreatWarningsAsErrors>false</TreatWarningsAsErrors>
  </PropertyGroup>
  <ItemGroup>
    <FrameworkReference Include="Microsoft.AspNetCore.App" />
$references  </ItemGroup>
</Project>
XML
# Empty, so that nothing above the scratch folder applies to the blocks should TMPDIR lie inside another repository.
echo '<Project />' > "$work/Directory.Build.targets"
echo '<Project />' > "$work/Directory.Packages.props"

while IFS=$'\t' read -r name _ _; do
  echo '<Project Sdk="Microsoft.NET.Sdk" />' > "$work/$name/$name.csproj"
done < "$work/manifest.tsv"

# --- one solution, one build -------------------------------------------------------------------------------------
(
  cd "$work"
  dotnet new sln --name blocks --format sln >/dev/null
  dotnet sln blocks.sln add b*/b*.csproj >/dev/null
)
echo "check-code-blocks: compiling $blocks blocks from ${#files[@]} files"
build_args=(build "$work/blocks.sln" -c Release --nologo -v quiet -clp:NoSummary "--artifacts-path" "$work/artifacts")
[ -n "${JOBS:-}" ] && build_args+=("-m:$JOBS")
set +e
dotnet "${build_args[@]}" > "$work/build.log" 2>&1
status=$?
set -e

# --- report -----------------------------------------------------------------------------------------------------
errors=$(grep -E ': error [A-Z]+[0-9]+' "$work/build.log" | sort -u || true)
failed=0
while IFS=$'\t' read -r name page line; do
  if grep -qF "/$name/$name.csproj]" <<< "$errors"; then
    failed=$((failed + 1))
    echo "FAIL $page, the block starting at line $line ($name):"
    grep -F "/$name/$name.csproj]" <<< "$errors" | sed -E 's/ \[[^]]*\]$//; s/^/  /'
  fi
done < "$work/manifest.tsv"

if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # The build failed outside the blocks (a library project, a restore): show what it said.
  echo "check-code-blocks: the build failed before the blocks could be judged:"
  if [ -n "$errors" ]; then echo "$errors"; else tail -n 40 "$work/build.log"; fi
  exit 1
fi
echo "check-code-blocks: $((blocks - failed)) of $blocks blocks compiled, $failed failed"
[ "$failed" -eq 0 ]
