"""@rules_java for Bazel 4 offline: its Java rules as Bazel's native ones.

Bazel 4 downloads rules_java while it resolves toolchains, for any build;
its own tools load only these rules from @rules_java//java:defs.bzl, and
rules_java's versions of them wrap the native rules too. See
third_party/bazel4_rules.bzl.
"""

def java_binary(**attrs):
    native.java_binary(**attrs)

def java_import(**attrs):
    native.java_import(**attrs)

def java_library(**attrs):
    native.java_library(**attrs)

def java_proto_library(**attrs):
    native.java_proto_library(**attrs)

def java_runtime(**attrs):
    native.java_runtime(**attrs)

def java_toolchain(**attrs):
    native.java_toolchain(**attrs)
