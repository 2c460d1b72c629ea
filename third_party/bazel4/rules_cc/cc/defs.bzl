"""@rules_cc for Bazel 4 offline: its C++ rules as Bazel's native ones.

Bazel 4's own tools load only these rules from @rules_cc//cc:defs.bzl, and
rules_cc's versions of them wrap the native rules too. See
third_party/bazel4_rules.bzl.
"""

def cc_binary(**attrs):
    native.cc_binary(**attrs)

def cc_library(**attrs):
    native.cc_library(**attrs)

def cc_test(**attrs):
    native.cc_test(**attrs)

def cc_proto_library(**attrs):
    native.cc_proto_library(**attrs)

def cc_toolchain(**attrs):
    native.cc_toolchain(**attrs)

def cc_toolchain_suite(**attrs):
    native.cc_toolchain_suite(**attrs)

def objc_library(**attrs):
    native.objc_library(**attrs)
