# Shared helpers of the scripts; sourced, not run.

# Builds the application when its sources are newer than the last build, and prints the
# classpath of a runnable module (APP_MODULE, default launcher): its jar and its dependencies.
app_classpath() {
  local root; root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  local module="${APP_MODULE:-launcher}"
  local stamp="$root/$module/target/.built"
  local cp_file="$root/$module/target/classpath.txt"
  if [[ ! -f "$stamp" || ! -s "$cp_file" || -n "$(find "$root" \( -path "$root/data" -o -path "$root/logs" -o -name target \) -prune -o \
        \( -name '*.java' -o -name 'pom.xml' -o -name '*.sql' -o -name '*.properties' -o -name '*.lua' \) -newer "$stamp" -print -quit)" ]]; then
    echo "building $module (mvn package, tests skipped)..." >&2
    # One reactor run, so sibling modules resolve to their freshly built jars. Every module of the
    # reactor writes the file in turn; the requested module comes last, so its classpath remains.
    (cd "$root" && mvn -q -B package dependency:build-classpath -DskipTests -pl "$module" -am \
        -Dmdep.outputFile="$cp_file" -DincludeScope=runtime >&2) || { echo "build failed" >&2; return 1; }
    touch "$stamp"
  fi
  local jar; jar="$(ls "$root/$module"/target/"$module"-*.jar | grep -v -e '-tests\.jar$' -e '-sources\.jar$' | head -1)"
  [[ -n "$jar" ]] || { echo "no jar of $module was built" >&2; return 1; }
  echo "$jar:$(cat "$cp_file")"
}
