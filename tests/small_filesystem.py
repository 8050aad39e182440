"""A real, tiny tmpfs for the disk-full tests, mounted as root or as any other user.

Mounting a filesystem takes CAP_SYS_ADMIN. Root has it. Any other user can get it
only over namespaces of their own: in a new user namespace, over the mount
namespace created with it, where the kernel lets a tmpfs be mounted. So a test
run that is not root moves itself into a private user and mount namespace when
it starts (``enter_own_namespaces``, from tests/conftest.py):

- its user and group ids stay the same (mapped to themselves), and it keeps only
  CAP_SYS_ADMIN, and only over its own namespaces: it cannot read or write
  anything it could not before, and the programs it starts (the job, the Pub/Sub
  emulator) lose even that when they exec;
- those programs inherit the mount namespace, so a tmpfs the test mounts there
  is at the same path for the test process and for them; nothing is mounted on
  the host, and the namespace ends with the run.

A root test run mounts on the host, as before, and unmounts afterwards.

The kernel itself answers ENOSPC when the tmpfs is full, as on any full disk: no
write() is patched, and tmpfs keeps no blocks in reserve for root. Where neither
way works, ``mount_tmpfs`` raises ``SmallFilesystemUnavailable`` saying what is
missing; the fixture fails the test with it, it never skips.
"""

from __future__ import annotations

import ctypes
import errno
import os
from pathlib import Path

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
MNT_DETACH = 2
CAP_SYS_ADMIN = 21
_CAPABILITY_VERSION_3 = 0x20080522

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]


class _CapHeader(ctypes.Structure):
    _fields_ = (("version", ctypes.c_uint32), ("pid", ctypes.c_int))


class _CapData(ctypes.Structure):
    _fields_ = (
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    )


class SmallFilesystemUnavailable(RuntimeError):
    """No tmpfs can be mounted in this test run; the message says what is missing."""


# Why this test run, not being root, has no namespace of its own to mount in; None if
# it has one, or is root.
_refused: str | None = None


def enter_own_namespaces() -> None:
    """Unless root: move this process into a user and mount namespace of its own.

    It must run before the process starts a second thread (the kernel refuses
    a multithreaded process a new user namespace); if it cannot, the reason is
    kept and given by ``mount_tmpfs``, the rest of the run is unaffected.
    """
    global _refused
    if os.geteuid() == 0:
        return
    threads = len(os.listdir("/proc/self/task"))
    if threads > 1:
        _refused = (
            f"the test process already had {threads} threads when it tried to enter a user "
            "namespace (tests/conftest.py: pytest_configure must do it before any import "
            "that starts a thread)"
        )
        return
    uid, gid = os.geteuid(), os.getegid()
    if _libc.unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0:
        why = {
            errno.EPERM: "user namespaces are not allowed to this user here",
            errno.ENOSPC: "the limit on user namespaces is reached, or set to 0",
        }.get(ctypes.get_errno(), "")
        _refused = f"unshare(CLONE_NEWUSER | CLONE_NEWNS) failed: {_errno_text()}" + (
            f" ({why})" if why else ""
        )
        return
    # From here on, a failure leaves the process unusable: raise, loudly.
    # Map our own ids to themselves (setgroups must be denied before gid_map is written).
    Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
    Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")
    # Keep CAP_SYS_ADMIN (over these namespaces) and nothing else.
    header = _CapHeader(_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    data[0].effective = data[0].permitted = 1 << CAP_SYS_ADMIN
    if _libc.capset(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), f"capset(CAP_SYS_ADMIN only): {_errno_text()}")


def mount_tmpfs(mount_point: Path, size_mib: int) -> None:
    """A fresh ``size_mib`` MiB tmpfs on ``mount_point``, an empty directory."""
    if _refused is not None:
        raise SmallFilesystemUnavailable(
            "the disk-full tests mount a tmpfs: as root, or as another user in a user "
            f"namespace of the test run's own, which this machine refused: {_refused}. Run "
            "them as root, or allow unprivileged user namespaces (sysctl "
            "user.max_user_namespaces > 0, and where they exist "
            "kernel.unprivileged_userns_clone=1 and "
            "kernel.apparmor_restrict_unprivileged_userns=0; in a container, a seccomp "
            "profile that permits unshare)"
        )
    options = f"size={size_mib}m".encode()
    if _libc.mount(b"tmpfs", os.fsencode(mount_point), b"tmpfs", 0, options) != 0:
        who = "root" if os.geteuid() == 0 else "the test run's own user namespace"
        raise SmallFilesystemUnavailable(
            f"the disk-full tests mount a tmpfs, and mount(2) on {mount_point} as {who} "
            f"failed: {_errno_text()}"
            + (" (a container without CAP_SYS_ADMIN?)" if os.geteuid() == 0 else "")
        )
    stat = os.statvfs(mount_point)
    if stat.f_blocks * stat.f_frsize != size_mib << 20:
        unmount(mount_point)
        raise SmallFilesystemUnavailable(f"{mount_point} did not get a {size_mib} MiB tmpfs")


def unmount(mount_point: Path) -> None:
    if _libc.umount2(os.fsencode(mount_point), MNT_DETACH) != 0:
        raise OSError(ctypes.get_errno(), f"umount {mount_point}: {_errno_text()}")


def _errno_text() -> str:
    number = ctypes.get_errno()
    return f"[Errno {number}] {os.strerror(number)}"
