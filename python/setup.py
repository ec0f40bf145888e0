"""setup.py - builds the hetcomp extension module (hetcomp/_hetcomp.c) for pip.

Which library it links, first found wins:
  1. the checkout's static library: $HETCOMP_BUILD_DIR/libhetcomp.a (default ../build, made by
     `make build`) with the header from $HETCOMP_INCLUDE_DIR (default ../include); the module
     is then self-contained (its dependencies from pkg-config: openblas, jansson, libxxhash,
     libmicrohttpd, and OpenMP);
  2. an installed hetcomp (`cmake --install build --prefix P`; PKG_CONFIG_PATH=P/lib/pkgconfig):
     `pkg-config --cflags --libs hetcomp`, the library found at run time through an rpath.
Cost: one compile of _hetcomp.c.
"""
import os
import shlex
import subprocess
from pathlib import Path

import numpy
from setuptools import Extension, setup

HERE = Path(__file__).resolve().parent


def pkg_config(*args):
    out = subprocess.run(["pkg-config", *args], check=True, capture_output=True, text=True)
    return shlex.split(out.stdout)


def split_flags(flags):
    """pkg-config flags as setuptools wants them: include dirs, library dirs, libraries and
    whatever else (e.g. -fopenmp) for the compiler and the linker."""
    inc, libdirs, libs, other = [], [], [], []
    for f in flags:
        if f.startswith("-I"):
            inc.append(f[2:])
        elif f.startswith("-L"):
            libdirs.append(f[2:])
        elif f.startswith("-l"):
            libs.append(f[2:])
        else:
            other.append(f)
    return inc, libdirs, libs, other


def extension_args():
    build = Path(os.environ.get("HETCOMP_BUILD_DIR", HERE.parent / "build"))
    include = Path(os.environ.get("HETCOMP_INCLUDE_DIR", HERE.parent / "include"))
    deps = ["openblas", "jansson", "libxxhash", "libmicrohttpd"]
    if (build / "libhetcomp.a").is_file() and (include / "hetcomp.h").is_file():
        inc, libdirs, libs, other = split_flags(pkg_config("--cflags", "--libs", *deps))
        return dict(include_dirs=[str(include), *inc], library_dirs=libdirs,
                    libraries=libs + ["m"], extra_objects=[str(build / "libhetcomp.a")],
                    extra_compile_args=["-fopenmp", *other],
                    extra_link_args=["-fopenmp", "-Wl,--exclude-libs,ALL", *other])
    try:
        inc, libdirs, libs, other = split_flags(pkg_config("--cflags", "--libs", "hetcomp"))
    except (OSError, subprocess.CalledProcessError):
        raise SystemExit("hetcomp: no library found: run `make build` in the checkout (or set "
                         "HETCOMP_BUILD_DIR), or install it and set PKG_CONFIG_PATH")
    return dict(include_dirs=inc, library_dirs=libdirs, libraries=libs,
                runtime_library_dirs=libdirs, extra_compile_args=other, extra_link_args=other)


args = extension_args()
args["include_dirs"].append(numpy.get_include())
setup(ext_modules=[Extension("hetcomp._hetcomp", ["hetcomp/_hetcomp.c"],
                             define_macros=[("_GNU_SOURCE", None)], **args)])
