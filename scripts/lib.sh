# Shared helpers of the scripts; sourced, not run.

# Builds the application when its sources are newer than the last build, and prints the
# classpath of the runnable node (its jar and its dependencies).
app_classpath() {
  local root; root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  local module="${APP_MODULE:-topology}"
  local stamp="$root/$module/target/.built"
  local cp_file="$root/$module/target/classpath.txt"
  if [[ ! -f "$stamp" || -n "$(find "$root" -path "$root/data" -prune -o \( -name '*.java' -o -name 'pom.xml' -o -name '*.sql' -o -name '*.properties' \) -newer "$stamp" -print -quit)" ]]; then
    echo "building (mvn package, tests skipped)..." >&2
    (cd "$root" && mvn -q -B package -DskipTests -pl "$module" -am >&2) || { echo "build failed" >&2; return 1; }
    (cd "$root" && mvn -q -B dependency:build-classpath -pl "$module" -Dmdep.outputFile="$cp_file" -Dmdep.includeScope=runtime >&2) \
      || { echo "could not resolve the classpath" >&2; return 1; }
    touch "$stamp"
  fi
  local jar; jar="$(ls "$root/$module"/target/"$module"-*.jar | grep -v -e tests -e sources | head -1)"
  local deps=""
  # The reactor's sibling modules come from their target folders, not from the local Maven repository.
  deps="$(sed "s#[^:]*/dev/balance/\([a-z-]*\)/[^/]*/[^:]*\.jar#$root/\1/target/classes#g" "$cp_file")"
  echo "$jar:$deps"
}
