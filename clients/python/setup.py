"""Builds the wheel with the lockcache stubs generated from the repository's protos
(../../protos): build it from a checkout, `pip install clients/python` or `pip wheel`."""

import pathlib

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = pathlib.Path(__file__).parent
PROTOS = HERE.parent.parent / "protos"
PROTO = "kushim/lockcache/v1/lockcache.proto"


def generate(into: pathlib.Path) -> None:
    from grpc_tools import protoc

    into.mkdir(parents=True, exist_ok=True)
    well_known = pathlib.Path(protoc.__file__).parent / "_proto"
    code = protoc.main([
        "protoc", f"-I{PROTOS}", f"-I{well_known}", f"--python_out={into}",
        f"--grpc_python_out={into}", f"--pyi_out={into}", PROTO,
    ])
    if code != 0:
        raise SystemExit(f"protoc failed on {PROTOS / PROTO}")


class BuildWithStubs(build_py):
    def run(self) -> None:
        super().run()
        if not (PROTOS / PROTO).is_file():
            raise SystemExit(f"{PROTOS / PROTO} not found: build from a Kushim checkout")
        generate(pathlib.Path(self.build_lib))


setup(cmdclass={"build_py": BuildWithStubs})
