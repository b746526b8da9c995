#!/bin/sh
# jlink-runtime.sh MODULE_LIST_FILE OUTPUT_DIR
# Links the Java runtime the agent runs on from the modules named in MODULE_LIST_FILE (one a
# line, # comments), with the JDK found through JAVA_HOME or PATH.
# --strip-java-debug-attributes rather than --strip-debug: some distributions' jlink then also
# strips native symbols with objcopy, which a JDK image need not have.
set -eu
list=$1
output=$2
modules=$(sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$list" | tr '\n' ',' | sed -e 's/,$//')
if [ -z "$modules" ]; then
  echo "jlink-runtime.sh: $list names no module" >&2
  exit 1
fi
jlink=jlink
if [ -n "${JAVA_HOME:-}" ]; then
  jlink=$JAVA_HOME/bin/jlink
fi
"$jlink" --add-modules "$modules" --strip-java-debug-attributes --no-man-pages --no-header-files \
  --compress=2 --output "$output"
echo "jlink-runtime.sh: linked $modules into $output"
