"""Lab images: Debian roots made with debootstrap, imported into podman, cached.

An image's tag is a hash of its recipe (release, packages, the init script and
the build steps), so an image is built once and rebuilt only when its recipe
changes. Builds of different releases run in parallel; two runs that need the
same missing image wait on one lock and build it once.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .hostprep import debian_mirror
from .shell import LabError, log, run

HERE = Path(__file__).resolve().parent.parent
INIT_SCRIPT = HERE / "images" / "lab-init.sh"
# Both can be moved (e.g. to time a build from nothing without touching the images
# other runs on this machine are using).
CACHE_DIR = Path(os.environ.get("KASSH_LAB_CACHE_DIR", "/var/cache/keepalive-ssh-lab"))
IMAGE_PREFIX = os.environ.get("KASSH_LAB_IMAGE_PREFIX", "localhost/keepalive-ssh-lab")
# Bump when the build steps below change in a way the recipe fields do not show.
BUILD_STEPS_VERSION = 1

COMMON_PACKAGES = (
    "openssh-server", "openssh-sftp-server", "openssh-client", "python3",
    "iproute2", "procps", "zsh",
)


@dataclasses.dataclass(frozen=True)
class Recipe:
    """What goes into one image."""

    name: str
    release: str
    packages: tuple[str, ...]

    def digest(self) -> str:
        payload = json.dumps(
            {
                "release": self.release,
                "packages": sorted(self.packages),
                "init": INIT_SCRIPT.read_text(encoding="utf-8"),
                "steps": BUILD_STEPS_VERSION,
            },
            sort_keys=True,
        )
        return hashlib.sha256(payload.encode()).hexdigest()

    @property
    def repository(self) -> str:
        return f"{IMAGE_PREFIX}-{self.name}"

    @property
    def reference(self) -> str:
        return f"{self.repository}:{self.digest()[:16]}"


# bookworm serves both the debian12 server and the client (putty-tools, ssh).
RECIPES = {
    "bullseye": Recipe("bullseye", "bullseye", (*COMMON_PACKAGES, "ksh")),
    "bookworm": Recipe("bookworm", "bookworm", (*COMMON_PACKAGES, "ksh93u+m", "putty-tools")),
    "trixie": Recipe("trixie", "trixie", (*COMMON_PACKAGES, "ksh93u+m")),
}


def image_exists(reference: str) -> bool:
    return run(["podman", "image", "exists", reference], check=False).returncode == 0


def ensure_images(names: list[str]) -> dict[str, str]:
    """Return {recipe name: image reference}, building the missing ones in parallel."""
    recipes = [RECIPES[name] for name in names]
    missing = [recipe for recipe in recipes if not image_exists(recipe.reference)]
    if missing:
        log("building images: " + ", ".join(r.reference for r in missing))
        with ThreadPoolExecutor(max_workers=len(missing)) as pool:
            for future in [pool.submit(_build_locked, recipe) for recipe in missing]:
                future.result()
    return {recipe.name: recipe.reference for recipe in recipes}


def _build_locked(recipe: Recipe) -> None:
    # One build per release at a time: builds of a release share its .deb cache.
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with open(CACHE_DIR / f"build-{recipe.name}.lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if image_exists(recipe.reference):
            return
        _build(recipe)


def _build(recipe: Recipe) -> None:
    start = time.monotonic()
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    debs = CACHE_DIR / "debs" / recipe.release
    debs.mkdir(parents=True, exist_ok=True)
    log_path = CACHE_DIR / f"build-{recipe.name}.log"
    root = Path(tempfile.mkdtemp(prefix=f"kassh-build-{recipe.name}-", dir="/var/tmp"))
    try:
        with open(log_path, "w", encoding="utf-8") as log_file:
            _debootstrap(recipe, root, debs, log_file)
        _customise(root)
        _import(recipe, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    log(f"built {recipe.reference} in {time.monotonic() - start:.0f}s")


def _debootstrap(recipe: Recipe, root: Path, debs: Path, log_file: object) -> None:
    argv = [
        "debootstrap", "--variant=minbase", f"--cache-dir={debs}",
        "--include=" + ",".join(recipe.packages),
        recipe.release, str(root), debian_mirror(),
    ]
    proc = subprocess.run(argv, stdout=log_file, stderr=subprocess.STDOUT,  # type: ignore[arg-type]
                          timeout=1500, check=False)
    if proc.returncode != 0:
        tail = Path(log_file.name).read_text(encoding="utf-8").splitlines()[-15:]  # type: ignore[attr-defined]
        raise LabError(f"debootstrap {recipe.release} failed:\n" + "\n".join(tail))


def _customise(root: Path) -> None:
    shutil.copyfile(INIT_SCRIPT, root / "usr/local/sbin/lab-init")
    (root / "usr/local/sbin/lab-init").chmod(0o755)
    # No init system and no audit in a container: pam_loginuid must not fail a login.
    pam_sshd = root / "etc/pam.d/sshd"
    text = pam_sshd.read_text(encoding="utf-8")
    pam_sshd.write_text(
        text.replace("session    required     pam_loginuid.so",
                     "session    optional     pam_loginuid.so"),
        encoding="utf-8",
    )
    for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for path in (root / leftover).glob("*"):
            if path.is_file():
                path.unlink()


def _import(recipe: Recipe, root: Path) -> None:
    tar = subprocess.Popen(["tar", "-C", str(root), "--numeric-owner", "-c", "."],
                           stdout=subprocess.PIPE)
    imp = subprocess.run(
        ["podman", "import",
         "--change", 'CMD ["/usr/local/sbin/lab-init"]',
         "--change", f"LABEL keepalive-ssh-lab.recipe={recipe.digest()}",
         "--change", f"LABEL keepalive-ssh-lab.release={recipe.release}",
         "-", recipe.reference],
        stdin=tar.stdout, capture_output=True, text=True, check=False, timeout=900,
    )
    assert tar.stdout is not None
    tar.stdout.close()
    tar.wait()
    if imp.returncode != 0 or tar.returncode != 0:
        raise LabError(f"podman import of {recipe.reference} failed: {imp.stderr.strip()}")


def stale_images() -> list[str]:
    """Lab images whose tag no current recipe produces (candidates for `images --prune`)."""
    wanted = {recipe.reference for recipe in RECIPES.values()}
    proc = run(["podman", "images", "--format", "{{.Repository}}:{{.Tag}}"], check=False)
    return [ref for ref in proc.stdout.split()
            if ref.startswith(IMAGE_PREFIX) and ref not in wanted]


__all__ = ["RECIPES", "Recipe", "ensure_images", "image_exists", "stale_images"]
