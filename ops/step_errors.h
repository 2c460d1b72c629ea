// The run op's per-step errors (trace_errors): the error of the memory
// after each step against a target, what the confidence loss charges each
// step (tf_anc/training/loss.py). The op computes them, and their gradient,
// so that training needs no [B, T, M, M] memory trace.

#ifndef TF_ANC_OPS_STEP_ERRORS_H_
#define TF_ANC_OPS_STEP_ERRORS_H_

#include <cstdint>
#include <vector>

#include "machine_run.h"
#include "vector_ops.h"
#include "tensorflow/core/framework/op_kernel.h"

namespace tf_anc {

// A group's error target and mask, in lanes: the error of a memory is
// sum_i mask_i sum_c (memory[i, c] - target[i, c])^2.
template <typename V>
struct ErrorTarget {
  ErrorTarget(::tensorflow::OpKernelContext* context, const RunSizes& n,
              const Group<V>& group)
      : target(n.memory), mask(n.step.memory) {
    Gather(group.InputRows(context, kErrorTarget, n.memory), n.memory,
           target.data());
    Gather(group.InputRows(context, kErrorMask, n.step.memory), n.step.memory,
           mask.data());
  }

  V Error(const RunSizes& n, const V* memory) const {
    const int64_t size = n.step.memory;
    V error = {};
    for (int64_t i = 0; i < size; ++i) {
      V row_error = {};
      for (int64_t c = 0; c < size; ++c) {
        const V difference = memory[i * size + c] - target[i * size + c];
        row_error += difference * difference;
      }
      error += mask[i] * row_error;
    }
    return error;
  }

  // grad_memory += d (gradient * Error(memory)) / d memory.
  void AddGradient(const RunSizes& n, const V& gradient, const V* memory,
                   V* grad_memory) const {
    const int64_t size = n.step.memory;
    for (int64_t i = 0; i < size; ++i) {
      const V row_gradient = 2.0f * gradient * mask[i];
      for (int64_t c = 0; c < size; ++c) {
        grad_memory[i * size + c] +=
            row_gradient * (memory[i * size + c] - target[i * size + c]);
      }
    }
  }

  std::vector<V> target;  // [M, M]
  std::vector<V> mask;    // [M]
};

}  // namespace tf_anc

#endif  // TF_ANC_OPS_STEP_ERRORS_H_
