#!/usr/bin/env python3
"""Builds Sluice's container base image from the JDK on this machine, without a Docker daemon
or a registry: a jlink'ed Java runtime plus the shared libraries it loads, a non-root user and
/tmp, written as a `docker save` tarball that Jib takes as `tar://…`.

Usage: base-image.py JAVA_HOME OUT.tar
"""
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

MODULES = ",".join([
    "java.base", "java.logging", "java.management", "java.naming", "java.net.http", "java.security.jgss",
    "java.sql", "java.xml", "java.desktop", "jdk.crypto.ec", "jdk.unsupported", "jdk.management", "jdk.zipfs",
])


def shared_libraries(root):
    """Every library the runtime's binaries and .so files load, as ldd resolves them here."""
    libs = set()
    for dirpath, _, files in os.walk(root):
        for f in files:
            path = os.path.join(dirpath, f)
            if not (f.endswith(".so") or dirpath.endswith("/bin")):
                continue
            out = subprocess.run(["ldd", path], capture_output=True, text=True).stdout
            for line in out.splitlines():
                parts = line.split()
                if "=>" in parts and len(parts) > parts.index("=>") + 1 and parts[parts.index("=>") + 1].startswith("/"):
                    libs.add(parts[parts.index("=>") + 1])
                elif parts and parts[0].startswith("/"):
                    libs.add(parts[0])  # the dynamic loader
    return sorted(libs)


def add_file(tar, src, arcname):
    real = os.path.realpath(src)
    info = tar.gettarinfo(real, arcname=arcname)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mtime = 0
    with open(real, "rb") as f:
        tar.addfile(info, f)


def add_text(tar, arcname, text, mode=0o644):
    data = text.encode()
    info = tarfile.TarInfo(arcname)
    info.size, info.mode, info.mtime = len(data), mode, 0
    tar.addfile(info, io.BytesIO(data))


def add_dir(tar, arcname, mode=0o755):
    info = tarfile.TarInfo(arcname)
    info.type, info.mode, info.mtime = tarfile.DIRTYPE, mode, 0
    tar.addfile(info)


def main():
    java_home, out = sys.argv[1], sys.argv[2]
    work = tempfile.mkdtemp(prefix="sluice-base-")
    try:
        runtime = os.path.join(work, "java")
        subprocess.run([os.path.join(java_home, "bin", "jlink"), "--add-modules", MODULES, "--strip-debug",
                        "--no-man-pages", "--no-header-files", "--output", runtime], check=True)
        layer = os.path.join(work, "layer.tar")
        with tarfile.open(layer, "w", format=tarfile.PAX_FORMAT) as tar:
            for d in ["etc", "tmp", "opt", "lib", "lib64", "usr", "usr/lib", "usr/lib/x86_64-linux-gnu",
                      "lib/x86_64-linux-gnu", "home", "home/nonroot"]:
                add_dir(tar, d, 0o1777 if d == "tmp" else 0o755)
            for dirpath, dirs, files in os.walk(runtime):
                rel = os.path.relpath(dirpath, runtime)
                base = "opt/java" if rel == "." else "opt/java/" + rel
                add_dir(tar, base)
                for f in sorted(files):
                    add_file(tar, os.path.join(dirpath, f), base + "/" + f)
            for lib in shared_libraries(runtime):
                if not lib.startswith(runtime):
                    add_file(tar, lib, lib.lstrip("/"))
            add_text(tar, "etc/passwd", "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532::/home/nonroot:/sbin/nologin\n")
            add_text(tar, "etc/group", "root:x:0:\nnonroot:x:65532:\n")
            add_text(tar, "etc/nsswitch.conf", "hosts: files dns\n")
        with open(layer, "rb") as f:
            diff_id = "sha256:" + hashlib.sha256(f.read()).hexdigest()
        config = {
            "architecture": "amd64", "os": "linux",
            "config": {"Env": ["PATH=/opt/java/bin:/usr/bin:/bin", "JAVA_HOME=/opt/java"], "User": "65532:65532"},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
            "history": [{"created_by": "deploy/image/base-image.py (jlink of " + java_home + ")"}],
        }
        config_bytes = json.dumps(config, sort_keys=True).encode()
        config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
        manifest = [{"Config": config_name, "RepoTags": ["sluice-base:local"], "Layers": ["layer.tar"]}]
        with tarfile.open(out, "w") as image:
            image.add(layer, arcname="layer.tar")
            add_text(image, config_name, config_bytes.decode())
            add_text(image, "manifest.json", json.dumps(manifest))
        print(f"{out}: {os.path.getsize(out) // (1024 * 1024)} MiB, runtime from {java_home}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
