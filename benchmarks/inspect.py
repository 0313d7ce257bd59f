"""PatchCore inference vs the bare backbone, and training time: see inspect_bench.py.

Usage: python benchmarks/inspect.py [--repeats 5] [--network lite2]

This file shares its name with the standard library's ``inspect``. Scripts run from this
folder have it first on their import path, so when anything imports ``inspect`` it gets this
file: then it becomes the standard module (its source is executed here), and only when run as
a script does it start the benchmark.
"""

import os
import sys
import sysconfig

if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    if sys.path and os.path.abspath(sys.path[0]) == here:
        sys.path.append(sys.path.pop(0))  # the real `inspect` first; `_common` still found
    sys.modules.pop("inspect", None)
    from inspect_bench import main

    main()
else:
    _std = os.path.join(sysconfig.get_paths()["stdlib"], "inspect.py")
    with open(_std, encoding="utf-8") as _fh:
        exec(compile(_fh.read(), _std, "exec"))
