"""Local test images, built without an image server and cached between runs.

busybox (about 1 MB, deterministic, so its fingerprint is stable), Debian minbase + python3 (for
Ansible, about a minute the first time) and `systemd`: Debian booted by systemd with the packages the roles'
online paths install pre-seeded (the role tests; a few minutes the first time). The cache is
`$ANKLUME_TEST_CACHE`, default `~/.cache/anklume-tests`. Prebuild them (e.g. once per CI run):
`python -m tests.image_helpers`.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

BUSYBOX = shutil.which("busybox") or "/bin/busybox"
# Bump when an image recipe changes, so cached tarballs are rebuilt.
BUSYBOX_RECIPE = "2"
DEBIAN_RECIPE = "3"
SYSTEMD_RECIPE = "7"
DEBIAN_PACKAGES = ("python3", "xclip", "wl-clipboard")
# What the roles' online paths install, pre-seeded: base_system's packages, docker_engine's, code_sandbox's and
# dev_test_runner's (roles/*/defaults/main.yml), nftables for firewall_router; python3-apt for Ansible's apt.
SYSTEMD_PACKAGES = (
    *("python3", "python3-apt", "systemd-sysv", "dbus", "docker.io", "nftables"),
    # udev: /sys is writable in an Incus container, so systemd-networkd waits for udev to set links up
    "udev",
    *("ca-certificates", "curl", "dnsutils", "htop", "less", "locales", "sudo", "tzdata", "vim"),
    *("git", "make", "python3-venv"),
    # opencode_server and stt_server: unzip, and Debian's web stack standing for pip's
    *("unzip", "python3-fastapi", "python3-uvicorn", "python3-multipart"),
    # tor_gateway (tor; `tor --verify-config` checks what the role writes) and print_server (CUPS's daemon and client)
    *("tor", "cups-daemon", "cups-client"),
)

BUSYBOX_INITTAB = """\
::sysinit:/bin/mount -t proc proc /proc
::sysinit:/bin/mkdir -p /run /tmp /var/run
::respawn:/etc/init.d/dhcp
::respawn:/bin/sleep 3600
::ctrlaltdel:/bin/umount -a -r
"""

# udhcpc on eth0 when there is one, so containers on a managed bridge get an address.
BUSYBOX_DHCP = """\
#!/bin/sh
if ip link show eth0 >/dev/null 2>&1; then
    exec udhcpc -f -i eth0 -s /etc/udhcpc.script
fi
exec sleep 3600
"""

BUSYBOX_UDHCPC_SCRIPT = """\
#!/bin/sh
case "$1" in
    deconfig) ip addr flush dev "$interface"; ip link set "$interface" up ;;
    bound|renew)
        ip addr flush dev "$interface"
        ip addr add "$ip/$mask" dev "$interface"
        [ -n "$router" ] && ip route replace default via "${router%% *}" dev "$interface"
        ;;
esac
exit 0
"""

# minbase has no init: this one idles until Incus stops the container (SIGPWR) or it is terminated.
DEBIAN_INIT = """\
#!/bin/sh
trap 'exit 0' PWR TERM INT
while :; do sleep 3600 & wait $!; done
"""


def cache_dir() -> Path:
    path = Path(os.environ.get("ANKLUME_TEST_CACHE", "~/.cache/anklume-tests")).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def debian_mirror() -> str:
    sources = Path("/etc/apt/sources.list.d/debian.sources")
    for line in sources.read_text().splitlines():
        if line.startswith("URIs:"):
            return line.split()[1]
    raise RuntimeError(f"no URIs: line in {sources}")


@dataclass(frozen=True)
class ImageFiles:
    name: str
    meta: Path
    rootfs: Path


def _metadata_tarball(description: str, os_name: str, release: str) -> bytes:
    metadata = (
        "architecture: x86_64\n"
        "creation_date: 1700000000\n"
        "properties:\n"
        f"  description: {description}\n"
        f"  os: {os_name}\n"
        f'  release: "{release}"\n'
    ).encode()
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        info = tarfile.TarInfo("metadata.yaml")
        info.size, info.mode, info.mtime = len(metadata), 0o644, 1700000000
        tar.addfile(info, io.BytesIO(metadata))
    return buf.getvalue()


def _busybox_rootfs_tarball() -> bytes:
    """A deterministic rootfs: same busybox binary, same bytes, same fingerprint."""
    applets = subprocess.run([BUSYBOX, "--list-full"], capture_output=True, text=True, check=True).stdout
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz, tarfile.open(fileobj=gz, mode="w") as tar:

        def add(name: str, kind: bytes, mode: int, data: bytes = b"", target: str = "") -> None:
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.mtime = kind, mode, 1700000000
            info.linkname, info.size = target, len(data)
            tar.addfile(info, io.BytesIO(data) if data else None)

        for d in (
            "bin",
            "sbin",
            "usr",
            "usr/bin",
            "usr/sbin",
            "etc",
            "etc/init.d",
            "dev",
            "proc",
            "sys",
            "tmp",
            "run",
            "root",
            "var",
            "var/run",
            "mnt",
        ):
            add(d, tarfile.DIRTYPE, 0o1777 if d == "tmp" else 0o755)
        add("bin/busybox", tarfile.REGTYPE, 0o755, Path(BUSYBOX).read_bytes())
        for path in sorted(set(applets.split())):
            if path == "bin/busybox" or "/" not in path:
                continue
            depth = path.count("/")
            add(path, tarfile.SYMTYPE, 0o777, target="../" * depth + "bin/busybox")
        add("sbin/init", tarfile.SYMTYPE, 0o777, target="../bin/busybox")
        add("etc/inittab", tarfile.REGTYPE, 0o644, BUSYBOX_INITTAB.encode())
        add("etc/init.d/dhcp", tarfile.REGTYPE, 0o755, BUSYBOX_DHCP.encode())
        add("etc/udhcpc.script", tarfile.REGTYPE, 0o755, BUSYBOX_UDHCPC_SCRIPT.encode())
        add("etc/passwd", tarfile.REGTYPE, 0o644, b"root:x:0:0:root:/root:/bin/sh\n")
        add("etc/group", tarfile.REGTYPE, 0o644, b"root:x:0:\n")
        add("etc/hostname", tarfile.REGTYPE, 0o644, b"busybox\n")
    return buf.getvalue()


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def build_busybox_image() -> ImageFiles:
    """The busybox image's two tarballs, built once per busybox binary and cached."""
    key = hashlib.sha256(Path(BUSYBOX).read_bytes() + BUSYBOX_RECIPE.encode()).hexdigest()[:12]
    base = cache_dir()
    image = ImageFiles("busybox", base / f"busybox-{key}.meta.tar.gz", base / f"busybox-{key}.rootfs.tar.gz")
    if not image.meta.exists():
        _write_atomic(image.meta, _metadata_tarball("busybox test image", "busybox", "1"))
    if not image.rootfs.exists():
        _write_atomic(image.rootfs, _busybox_rootfs_tarball())
        _drop_stale("busybox", keep=image)
    return image


def build_debian_image(mirror: str | None = None, suite: str = "bookworm") -> ImageFiles:
    """Debian minbase + python3 (about a minute the first time), cached like the busybox image; with the
    clipboard tools of the desktop tests (xclip, wl-clipboard: about 2 MB with their libraries)."""
    return _build_debian("debian", DEBIAN_RECIPE, DEBIAN_PACKAGES, mirror, suite)


def build_systemd_image(mirror: str | None = None, suite: str = "bookworm") -> ImageFiles:
    """Debian minbase + python3, booted by systemd, with what the roles' online paths install pre-seeded (the
    test containers have no route to a mirror): Docker from the Debian archive for docker_engine and
    swarm_node, python3-apt for Ansible's apt module. A second image, so the other tests' containers stay small.
    """
    return _build_debian("systemd", SYSTEMD_RECIPE, SYSTEMD_PACKAGES, mirror, suite)


def _build_debian(name: str, recipe: str, packages: tuple[str, ...], mirror: str | None, suite: str) -> ImageFiles:
    mirror = mirror or debian_mirror()
    key = hashlib.sha256(f"{mirror} {suite} {recipe}".encode()).hexdigest()[:12]
    base = cache_dir()
    image = ImageFiles(name, base / f"{name}-{key}.meta.tar.gz", base / f"{name}-{key}.rootfs.tar.gz")
    if image.meta.exists() and image.rootfs.exists():
        return image
    work = Path(tempfile.mkdtemp(prefix=f"{name}-build-", dir=base))
    try:
        root = work / "rootfs"
        _run(["debootstrap", "--variant=minbase", f"--include={','.join(packages)}", suite, str(root), mirror])
        init = root / "sbin" / "init"
        if "systemd-sysv" not in packages:
            init.unlink(missing_ok=True)
            init.write_text(DEBIAN_INIT)
            init.chmod(0o755)
        _run(["chroot", str(root), "apt-get", "clean"])
        if name != "debian":
            # No mirror: the packages in the image stand in for one (`apt-get update` has nothing to fetch).
            (root / "etc/apt/sources.list").write_text("")
        if "docker.io" in packages:
            # Installed, not running: docker_engine, tor_gateway and print_server start theirs where a machine
            # lists the role (else every container of the image would run dockerd, containerd, tor and cupsd).
            units = ("docker.service", "docker.socket", "containerd.service", "tor.service", "cups.service")
            units += ("cups.socket", "cups.path")
            _run(["chroot", str(root), "systemctl", "disable", *units])
        if "systemd-sysv" in packages:
            # eth0 takes its address from the bridge's DHCP (Incus reserves the machine's static address there).
            (root / "etc/systemd/network/80-anklume-test-eth0.network").write_text(
                "[Match]\nName=eth0\n\n[Network]\nDHCP=ipv4\n"
            )
            _run(["chroot", str(root), "systemctl", "enable", "systemd-networkd"])
        _slim(root)
        tmp_rootfs = work / "rootfs.tar.gz"
        _run(["tar", "--numeric-owner", "-czf", str(tmp_rootfs), "-C", str(root), "."])
        _write_atomic(image.meta, _metadata_tarball(f"Debian minbase with {', '.join(packages)}", "debian", suite))
        tmp_rootfs.replace(image.rootfs)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _drop_stale(name, keep=image)
    return image


def _run(cmd: list[str]) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise RuntimeError(f"{' '.join(cmd[:2])} failed ({result.returncode}):\n{tail}")


def _slim(root: Path) -> None:
    """Creating a container unpacks the whole rootfs (slow on these disks): drop docs, manuals,
    translations and apt lists, and keep later package installs in the container from adding them."""
    for folder in ("usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale", "var/lib/apt/lists"):
        for entry in (root / folder).glob("*"):
            if entry.name in ("locale.alias", "lock", "partial"):
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    (root / "etc/dpkg/dpkg.cfg.d/01-anklume-test-slim").write_text(
        "path-exclude=/usr/share/doc/*\npath-exclude=/usr/share/man/*\npath-exclude=/usr/share/info/*\n"
        "path-exclude=/usr/share/locale/*\npath-include=/usr/share/locale/locale.alias\n"
    )


def _drop_stale(name: str, keep: ImageFiles) -> None:
    """Cached tarballs of older recipes (or older busybox binaries) of this image."""
    for path in cache_dir().glob(f"{name}-*.tar.gz"):
        if path not in (keep.meta, keep.rootfs):
            path.unlink(missing_ok=True)


def main(argv: list[str]) -> int:
    names = argv or ["busybox", "debian", "systemd"]
    builders = {"busybox": build_busybox_image, "debian": build_debian_image, "systemd": build_systemd_image}
    for name in names:
        image = builders[name]()
        print(f"{name}: {image.meta} {image.rootfs}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
