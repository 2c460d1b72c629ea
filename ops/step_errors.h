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

// The error of `memory` against `target` ([M, M]) under `mask` ([M]):
// sum_i mask_i sum_c (memory[i, c] - target[i, c])^2. T is float (one
// example's rows) or V (the lanes').
template <typename T>
T MemoryError(const RunSizes& n, const T* memory, const T* target,
              const T* mask) {
  const int64_t size = n.step.memory;
  T error = {};
  for (int64_t i = 0; i < size; ++i) {
    T row_error = {};
    for (int64_t c = 0; c < size; ++c) {
      const T difference = memory[i * size + c] - target[i * size + c];
      row_error += difference * difference;
    }
    error += mask[i] * row_error;
  }
  return error;
}

// grad_memory += d (gradient * MemoryError(memory)) / d memory.
template <typename T>
void AddMemoryErrorGradient(const RunSizes& n, const T& gradient,
                            const T* memory, const T* target, const T* mask,
                            T* grad_memory) {
  const int64_t size = n.step.memory;
  for (int64_t i = 0; i < size; ++i) {
    const T row_gradient = 2.0f * gradient * mask[i];
    for (int64_t c = 0; c < size; ++c) {
      grad_memory[i * size + c] +=
          row_gradient * (memory[i * size + c] - target[i * size + c]);
    }
  }
}

// Example b's error target ([M, M]) and mask ([M]) in the op's inputs.
inline const float* ExampleErrorTarget(::tensorflow::OpKernelContext* context,
                                       const RunSizes& n, int64_t b) {
  return context->input(kErrorTarget).flat<float>().data() + b * n.memory;
}
inline const float* ExampleErrorMask(::tensorflow::OpKernelContext* context,
                                     const RunSizes& n, int64_t b) {
  return context->input(kErrorMask).flat<float>().data() + b * n.step.memory;
}

// The lanes' error targets and masks, each lane's its example's.
template <typename V>
struct ErrorTarget {
  explicit ErrorTarget(const RunSizes& n)
      : target(n.memory), mask(n.step.memory) {}

  // Makes `lane`'s target and mask example b's.
  void Load(::tensorflow::OpKernelContext* context, const RunSizes& n,
            int64_t b, int lane) {
    SetLane(ExampleErrorTarget(context, n, b), n.memory, lane, target.data());
    SetLane(ExampleErrorMask(context, n, b), n.step.memory, lane,
            mask.data());
  }

  V Error(const RunSizes& n, const V* memory) const {
    return MemoryError(n, memory, target.data(), mask.data());
  }

  void AddGradient(const RunSizes& n, const V& gradient, const V* memory,
                   V* grad_memory) const {
    AddMemoryErrorGradient(n, gradient, memory, target.data(), mask.data(),
                           grad_memory);
  }

  std::vector<V> target;  // [M, M]
  std::vector<V> mask;    // [M]
};

}  // namespace tf_anc

#endif  // TF_ANC_OPS_STEP_ERRORS_H_
