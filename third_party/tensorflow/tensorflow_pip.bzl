"""The pip-installed TensorFlow as a Bazel repository, for building custom ops.

Runs the Python interpreter that Bazel sees ($PYTHON_BIN_PATH, else
python3) to ask `tf.sysconfig` where TensorFlow's headers and framework
library are and which compile flags it was built with, the same question
tf_anc/kernels/build.py asks for pip users. The repository provides:

  @tensorflow_pip//:headers    TensorFlow's C++ headers (with Eigen, absl...)
  @tensorflow_pip//:framework  libtensorflow_framework.so.2
  @tensorflow_pip//:copts.bzl  TF_COPTS, tf.sysconfig's compile flags other
                               than -I; OP_COPTS, the flags build.py adds:
                               optimisation, silenced warnings and its first
                               instruction-set candidate for this machine
"""

_QUERY = """
import runpy, sys
import tensorflow as tf
print(tf.sysconfig.get_include())
print(tf.sysconfig.get_lib())
print(" ".join(flag for flag in tf.sysconfig.get_compile_flags()
               if not flag.startswith("-I")))
build = runpy.run_path(sys.argv[1])
print(" ".join(build["OPTIMIZATION"] + build["isa_candidates"]()[0] +
               build["QUIET"]))
"""

_BUILD = """
package(default_visibility = ["//visibility:public"])

cc_library(
    name = "headers",
    hdrs = glob(["include/**"]),
    includes = ["include"],
)

cc_library(
    name = "framework",
    srcs = ["libtensorflow_framework.so.2"],
)
"""

def _tensorflow_pip_impl(ctx):
    python = ctx.os.environ.get("PYTHON_BIN_PATH", "python3")
    build_py = ctx.path(Label("//:tf_anc/kernels/build.py"))
    result = ctx.execute([python, "-c", _QUERY, str(build_py)], quiet = True)
    if result.return_code != 0:
        fail("cannot import tensorflow with %s (set PYTHON_BIN_PATH to the " %
             python + "Python that has it): " + result.stderr)
    include, lib, flags, op_flags = result.stdout.strip().split("\n")[-4:]
    ctx.symlink(include, "include")
    ctx.symlink(lib + "/libtensorflow_framework.so.2",
                "libtensorflow_framework.so.2")
    ctx.file("BUILD", _BUILD)
    ctx.file("copts.bzl", "TF_COPTS = %r\nOP_COPTS = %r\n" % (
        flags.split(" "),
        op_flags.split(" "),
    ))

tensorflow_pip = repository_rule(
    implementation = _tensorflow_pip_impl,
    environ = ["PYTHON_BIN_PATH"],
    local = True,
)
