#!/usr/bin/env python3
"""The test executables a `cargo test --no-run --message-format=json` build made.

  test_bins.py BUILD.json PACKAGE TARGET   the executable of one test target
  test_bins.py BUILD.json --all            every test executable, one per line:
                                           package dir <TAB> executable <TAB> name

scripts/test.sh runs the binaries by path, so later steps rebuild nothing and
independent suites can run beside each other.
"""

import json
import os
import sys


def artifacts(build):
    with open(build) as lines:
        for line in lines:
            m = json.loads(line)
            if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"]:
                # package_id: "path+file:///…/server#punch-server@0.1.0" (or "…#0.1.0"
                # when the directory is the package's name)
                pkg = m["package_id"].split("#")[-1].split("@")[0]
                if "@" not in m["package_id"].split("#")[-1]:
                    pkg = m["package_id"].split("#")[0].rstrip("/").split("/")[-1]
                yield pkg, m["target"]["name"], os.path.dirname(m["manifest_path"]), m["executable"]


def main(argv):
    if len(argv) == 3 and argv[2] == "--all":
        for pkg, target, pkg_dir, exe in artifacts(argv[1]):
            print(f"{pkg_dir}\t{exe}\t{pkg}/{target}")
        return 0
    if len(argv) == 4:
        build, want_pkg, want_target = argv[1:4]
        for pkg, target, _, exe in artifacts(build):
            if (pkg, target) == (want_pkg, want_target):
                print(exe)
                return 0
        sys.exit(f"no test binary {want_target} of {want_pkg} in the build")
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
