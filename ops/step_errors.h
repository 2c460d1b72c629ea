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

// Whether cell c is a row's target: `target_cell` is the row's target cell
// (an int32 for one example, a float per lane for V). All bits set where
// it is, as comparisons give.
template <typename Cell>
auto IsTargetCell(const Cell& target_cell, int64_t c) {
  return target_cell == static_cast<float>(c);
}

// Whether some lane weighs a row (`weight` its mask entry, per lane for V).
// A row no lane weighs counts zero times: the sums below skip it, where a
// task's targets weigh few cells (ListK's one of M). Its error is not
// computed, so a non-finite memory row there cannot make the sum NaN.
inline bool Weighed(float weight) { return weight != 0.0f; }
inline bool Weighed(const Lanes& weight) {
  return AnyLane<Lanes>(weight != Lanes{});
}

// The error of `memory` ([M, M]) against the one-hot rows of the target
// cells `target_cell` ([M]) under `mask` ([M]): sum_i mask_i sum_c
// (memory[i, c] - [c = target_cell[i]])^2. T is float (one example's rows)
// or V (the lanes'). The target's rows are built as the sum runs: held
// whole in lanes they would be M^2 values a lane, read every step, where
// the cells are M.
template <typename T, typename Cell>
T MemoryError(const RunSizes& n, const T* memory, const Cell* target_cell,
              const T* mask) {
  const int64_t size = n.step.memory;
  const T one = T{} + 1.0f, zero = {};
  T error = {};
  for (int64_t i = 0; i < size; ++i) {
    if (!Weighed(mask[i])) continue;
    const Cell cell = target_cell[i];
    T row_error = {};
    for (int64_t c = 0; c < size; ++c) {
      const T difference =
          memory[i * size + c] - (IsTargetCell(cell, c) ? one : zero);
      row_error += difference * difference;
    }
    error += mask[i] * row_error;
  }
  return error;
}

// grad_memory += d (gradient * MemoryError(memory)) / d memory.
template <typename T, typename Cell>
void AddMemoryErrorGradient(const RunSizes& n, const T& gradient,
                            const T* memory, const Cell* target_cell,
                            const T* mask, T* grad_memory) {
  const int64_t size = n.step.memory;
  const T one = T{} + 1.0f, zero = {};
  for (int64_t i = 0; i < size; ++i) {
    if (!Weighed(mask[i])) continue;
    const Cell cell = target_cell[i];
    const T row_gradient = 2.0f * gradient * mask[i];
    for (int64_t c = 0; c < size; ++c) {
      grad_memory[i * size + c] +=
          row_gradient *
          (memory[i * size + c] - (IsTargetCell(cell, c) ? one : zero));
    }
  }
}

// Example b's target cells ([M]) and mask ([M]) in the op's inputs.
inline const int32_t* ExampleErrorTarget(
    ::tensorflow::OpKernelContext* context, const RunSizes& n, int64_t b) {
  return context->input(kErrorTarget).flat<int32_t>().data() +
         b * n.step.memory;
}
inline const float* ExampleErrorMask(::tensorflow::OpKernelContext* context,
                                     const RunSizes& n, int64_t b) {
  return context->input(kErrorMask).flat<float>().data() + b * n.step.memory;
}

// The lanes' error targets and masks, each lane's its example's.
template <typename V>
struct ErrorTarget {
  explicit ErrorTarget(const RunSizes& n)
      : target_cell(n.step.memory), mask(n.step.memory) {}

  // Makes `lane`'s target and mask example b's.
  void Load(::tensorflow::OpKernelContext* context, const RunSizes& n,
            int64_t b, int lane) {
    SetLane(ExampleErrorTarget(context, n, b), n.step.memory, lane,
            target_cell.data());
    SetLane(ExampleErrorMask(context, n, b), n.step.memory, lane,
            mask.data());
  }

  V Error(const RunSizes& n, const V* memory) const {
    return MemoryError(n, memory, target_cell.data(), mask.data());
  }

  void AddGradient(const RunSizes& n, const V& gradient, const V* memory,
                   V* grad_memory) const {
    AddMemoryErrorGradient(n, gradient, memory, target_cell.data(),
                           mask.data(), grad_memory);
  }

  std::vector<V> target_cell;  // [M], as floats
  std::vector<V> mask;         // [M]
};

}  // namespace tf_anc

#endif  // TF_ANC_OPS_STEP_ERRORS_H_
