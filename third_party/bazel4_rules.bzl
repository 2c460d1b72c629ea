"""The repositories Bazel 4 downloads for any build: in-repo stand-ins.

Bazel 4 (Debian's bazel-bootstrap 4.2.3, which reports "no_version")
downloads rules_cc and rules_java on the first build of anything, to
resolve toolchains, and remote_coverage_tools for any test; offline that
fails, and Debian's own bazel-rules-cc (0.0.4) is too new for it (it loads
`use_cpp_toolchain`, which Bazel 4's @bazel_tools lacks). Bazel 4's tools
load only a few rules from the first two, which those repositories define
as wrappers of the native rules, as third_party/bazel4/ does; the coverage
tools are needed only by `bazel coverage`. Other Bazels fetch the
repositories they were released with.
"""

_STAND_INS = ("rules_cc", "rules_java", "remote_coverage_tools")

def bazel4_rules():
    """On Bazel 4, the repositories above are third_party/bazel4/'s."""
    version = native.bazel_version
    if version and version != "no_version" and not version.startswith("4."):
        return
    for name in _STAND_INS:
        native.local_repository(
            name = name,
            path = "third_party/bazel4/" + name,
        )
