"""The build's one compile step: the direct redirect's C function (``crosspromo.web._direct``).

It is compiled in place, beside its source, with the interpreter's own compiler settings (by
setuptools' ``build_ext``), for an editable install (the package is imported from ``src``) and
a wheel alike; the wheel then carries it and is tagged for this platform. A compiler and the
Python headers are needed to install (Debian: gcc and python3-dev).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

MODULE = "crosspromo.web._direct"
SOURCE = "src/crosspromo/web/_direct.c"
FLAGS = ["-O2", "-Wall", "-Wextra", "-Werror", "-std=gnu11"]


class CompileHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        with contextlib.chdir(root):
            built = _compiled(root)
        if self.target_name == "wheel" and version != "editable":
            build_data["force_include"][str(built)] = built.relative_to(root / "src").as_posix()
        build_data["pure_python"] = False
        build_data["infer_tag"] = True


def _compiled(root: Path) -> Path:
    """The extension compiled beside its source (again only if its source changed)."""
    from setuptools import Distribution, Extension
    from setuptools.command.build_ext import build_ext

    extension = Extension(MODULE, [SOURCE], extra_compile_args=FLAGS)
    distribution = Distribution({"ext_modules": [extension], "package_dir": {"": "src"}})
    distribution.script_name = str(root / "hatch_build.py")
    command = build_ext(distribution)
    command.inplace = True
    command.build_temp = str(root / "build" / "temp")
    command.ensure_finalized()
    command.run()
    return (root / command.get_ext_fullpath(MODULE)).resolve()
