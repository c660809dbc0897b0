#!/usr/bin/env bash
# Builds Sluice's container image as a tarball, without a Docker daemon or a registry:
#   1. a base image from this machine's newest JDK (deploy/image/base-image.py),
#   2. Jib's buildTar on top of it  ->  sluice-server/target/sluice-image.tar
#   3. checks: the tar's manifest and layers; as root, the image's own entrypoint runs
#      `sluice validate` on the example configuration inside a chroot of its layers.
# Load the result where a daemon exists: docker load -i sluice-server/target/sluice-image.tar
# With registry access, skip 1: mvn -pl sluice-server jib:buildTar (base eclipse-temurin:25-jre).
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"; . ./sluice-jvm.sh   # java_major, unsafe_flag
JDK=$(ls -d /usr/lib/jvm/*/ 2>/dev/null | while read -r d; do
        [ -x "$d/bin/jlink" ] && echo "$(java_major "$d/bin/java") $d"; done | sort -n | tail -1 | cut -d' ' -f2)
BASE=target/sluice-base.tar
mkdir -p target
python3 deploy/image/base-image.py "${JDK%/}" "$BASE"
mvn -B -ntp -q -pl sluice-server -am install -DskipTests -Djcstress.skip=true
# The image's runtime gets unsafe_flag; one older than 24 gets a flag that changes nothing
# there instead (jib's jvmFlag cannot be empty).
UNSAFE="$(unsafe_flag "$(java_major "${JDK%/}/bin/java")")"; UNSAFE="${UNSAFE:--Dio.netty.noUnsafe=false}"
mvn -B -ntp -q -pl sluice-server jib:buildTar -Dsluice.image.base="tar://$PWD/$BASE" -Dsluice.image.unsafe="$UNSAFE" -Djib.console=plain
IMAGE=sluice-server/target/sluice-image.tar
echo "image: $IMAGE ($(du -h "$IMAGE" | cut -f1))"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
tar -xf "$IMAGE" -C "$WORK"
python3 - "$WORK" <<'PY'
import json, os, sys, tarfile
work = sys.argv[1]
manifest = json.load(open(os.path.join(work, "manifest.json")))[0]
config = json.load(open(os.path.join(work, manifest["Config"])))
entry = config["config"]["Entrypoint"]
assert entry[0] == "java" and "dev.sluice.server.cli.SluiceCommand" in entry, entry
names = set()
for layer in manifest["Layers"]:
    with tarfile.open(os.path.join(work, layer)) as t:
        names.update(t.getnames())
assert any(n.endswith("opt/java/bin/java") for n in names), "no Java runtime from the base image"
assert any("sluice-core" in n for n in names) and any("/app/classes/dev/sluice/server" in n or "app/classes/dev/sluice/server" in n for n in names), "no Sluice"
print("manifest: %d layers, entrypoint %s" % (len(manifest["Layers"]), " ".join(entry[:3]) + " …"))
PY
if [ "$(id -u)" = 0 ]; then
  # As a container runtime would: the layers in order, /proc mounted, the image's user, its
  # entrypoint (java found on the image's PATH), here with `validate` on the example config.
  ROOT="$WORK/rootfs"
  mkdir -p "$ROOT"
  python3 - "$WORK" "$ROOT" > "$WORK/entrypoint" <<'PY'
import json, os, sys, tarfile
work, root = sys.argv[1], sys.argv[2]
manifest = json.load(open(os.path.join(work, "manifest.json")))[0]
for layer in manifest["Layers"]:
    with tarfile.open(os.path.join(work, layer)) as t:
        t.extractall(root)
entry = json.load(open(os.path.join(work, manifest["Config"])))["config"]["Entrypoint"]
print("\n".join(["/opt/java/bin/java" if entry[0] == "java" else entry[0]] + entry[1:]))
PY
  mkdir -p "$ROOT/etc/sluice" "$ROOT/proc"
  cp examples/sluice.yaml "$ROOT/etc/sluice/sluice.yaml"
  mount -t proc proc "$ROOT/proc"
  trap 'umount "$ROOT/proc" 2>/dev/null; rm -rf "$WORK"' EXIT
  mapfile -t ENTRY < "$WORK/entrypoint"
  chroot --userspec=65532:65532 "$ROOT" "${ENTRY[@]}" validate /etc/sluice/sluice.yaml
  echo "the image's entrypoint runs Sluice: ok"
fi
