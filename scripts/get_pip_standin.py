"""Offline stand-in for the get-pip.py that ansible-test downloads (keepalive.ssh).

ansible-test bootstraps pip in each venv it makes by running
``~/.ansible/test/cache/get_pip_<ver>.py`` (fetched from a CI file host that is not reachable
here) with arguments such as ``--disable-pip-version-check pip==25.2 --no-setuptools --no-wheel``.
This script does the same with what is at hand: ``ensurepip``, then pip installs the requested
pip from the package index. ``scripts/ansible-test-cache.sh`` copies it into place.
"""

import subprocess
import sys

# get-pip.py's own switches; pip install does not know them.
GET_PIP_ONLY = ("--no-setuptools", "--no-wheel")


def main():
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--disable-pip-version-check"] + args)
    if "--no-setuptools" in sys.argv:
        # ensurepip of Python < 3.12 also brings setuptools, which get-pip.py would have left out.
        subprocess.call([sys.executable, "-m", "pip", "uninstall", "-q", "-y", "setuptools"],
                        stderr=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
