# The JVM flags Sluice runs with, in one place (sourced, not run): by ./sluice, bench/ab.sh
# and deploy/image/build.sh. Needs $root, the repository root.

# The feature version of a java binary (17, 25, …), or nothing.
java_major() {
  "$1" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {v=$2; sub(/\..*/, "", v); print v; exit}'
}

# The default flags of sluice-jvm.options, comments dropped, on one line.
sluice_default_flags() {
  sed -e 's/#.*//' "$root/sluice-jvm.options" | tr -s ' \n' '  '
}

# --sun-misc-unsafe-memory-access=allow from Java 24 (older runtimes refuse it): 24 warns on
# sun.misc.Unsafe's memory access, and from 25 Netty 4.2 stops using Unsafe unless it is
# allowed, and its buffers then go through ByteBuffer views, ~10% more CPU per request here
# (docs/benchmarks.md, "JVM flags"). Prints nothing below 24.
unsafe_flag() { # major
  [ "$1" -ge 24 ] && echo "--sun-misc-unsafe-memory-access=allow" || true
}

# The flags a JDK of this version needs beyond the defaults: native access from 22 (Netty's
# native transport warns without it), and unsafe_flag.
version_flags() { # major
  local f=""
  [ "$1" -ge 22 ] && f="--enable-native-access=ALL-UNNAMED"
  echo "$f $(unsafe_flag "$1")"
}
