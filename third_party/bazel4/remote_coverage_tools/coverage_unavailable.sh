#!/bin/sh
echo "bazel coverage needs Bazel's remote_coverage_tools, not available offline" >&2
exit 1
