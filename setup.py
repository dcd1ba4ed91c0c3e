"""Installs d2lrnn's start-up hook; everything else about the package is in pyproject.toml.

``d2lrnn-import-hook.pth`` goes into site-packages beside the package, for a normal install
(``build_py``) and an editable one (``editable_wheel``) alike. Python runs its one line at
start-up; see ``_d2lrnn_hook.py`` for what it does and why.
"""
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.editable_wheel import editable_wheel

PTH_NAME = "d2lrnn-import-hook.pth"
PTH_LINE = "import _d2lrnn_hook; _d2lrnn_hook.install()\n"


class BuildPyWithHook(build_py):
    """``build_py`` that also writes the .pth file at the top of the wheel."""

    def run(self):
        super().run()
        Path(self.build_lib, PTH_NAME).write_text(PTH_LINE)

    def get_outputs(self, include_bytecode=True):
        return [*super().get_outputs(include_bytecode), str(Path(self.build_lib, PTH_NAME))]


class EditableWheelWithHook(editable_wheel):
    """``editable_wheel`` that also puts the .pth file into the editable wheel."""

    def _run_build_commands(self, dist_name, unpacked_wheel, build_lib, tmp_dir):
        result = super()._run_build_commands(dist_name, unpacked_wheel, build_lib, tmp_dir)
        Path(unpacked_wheel, PTH_NAME).write_text(PTH_LINE)
        return result


setup(cmdclass={"build_py": BuildPyWithHook, "editable_wheel": EditableWheelWithHook})
