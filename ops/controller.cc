#include "controller.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "machine_run.h"
#include "vector_ops.h"

namespace tf_anc {

void PackLogits(::tensorflow::OpKernelContext* context, const RunSizes& n,
                float* packed) {
  for (int i = 0; i < kNumDistributions; ++i) {
    const float* logits =
        context->input(kInstructionLogits + i).flat<float>().data();
    const int64_t width = n.command.widths[i];
    for (int64_t row = 0; row < n.restarts * n.step.memory; ++row) {
      std::copy_n(logits + row * width, width,
                  packed + row * n.command.size + n.command.offsets[i]);
    }
  }
}

namespace {

// instruction_register @ logits into `command`: T is float (the logits the
// lanes share, each broadcast to the lanes as it is multiplied) or V.
template <typename V, typename T>
void CommandLogits(const RunSizes& n, const T* logits,
                   const V* instruction_register, V* command) {
  const int64_t size = n.command.size;
  StridedDots(size, n.step.memory, instruction_register, logits, size,
              command, /*assign=*/true);
}

// grad_ir[m] += <logits[m], grad_command>, four rows at a time: four
// independent sums, and each grad_command value loaded once for them.
template <typename V, typename T>
void AddInstructionRegisterGradient(const RunSizes& n, const T* logits,
                                    const V* grad_command,
                                    V* grad_instruction_register) {
  const int64_t size = n.command.size;
  const V* __restrict g = grad_command;
  int64_t m = 0;
  for (; m + 4 <= n.step.memory; m += 4) {
    const T* __restrict row = logits + m * size;
    V sum0 = {}, sum1 = {}, sum2 = {}, sum3 = {};
    for (int64_t j = 0; j < size; ++j) {
      const V g_j = g[j];
      sum0 += row[j] * g_j;
      sum1 += row[size + j] * g_j;
      sum2 += row[2 * size + j] * g_j;
      sum3 += row[3 * size + j] * g_j;
    }
    grad_instruction_register[m] += sum0;
    grad_instruction_register[m + 1] += sum1;
    grad_instruction_register[m + 2] += sum2;
    grad_instruction_register[m + 3] += sum3;
  }
  for (; m < n.step.memory; ++m) {
    const T* __restrict row = logits + m * size;
    V sum = {};
    for (int64_t j = 0; j < size; ++j) sum += row[j] * g[j];
    grad_instruction_register[m] += sum;
  }
}

}  // namespace

template <typename V>
void ControllerForward(const RunSizes& n, const ControllerLogits<V>& logits,
                       const V* instruction_register, V* command) {
  if (logits.shared != nullptr) {
    CommandLogits(n, logits.shared, instruction_register, command);
  } else {
    CommandLogits(n, logits.lanes, instruction_register, command);
  }
  for (int i = 0; i < kNumDistributions; ++i) {
    V* p = n.command.At(command, i);
    const int64_t width = n.command.widths[i];
    V largest = p[0];
    for (int64_t j = 1; j < width; ++j) largest = Max(largest, p[j]);
    V total = {};
    for (int64_t j = 0; j < width; ++j) {
      p[j] = Exp(p[j] - largest);
      total += p[j];
    }
    const V inverse_total = 1.0f / total;
    for (int64_t j = 0; j < width; ++j) p[j] *= inverse_total;
  }
}

template <typename V>
void ControllerBackward(const RunSizes& n, const ControllerLogits<V>& logits,
                        const V* command, const Mask<V>& running,
                        V* grad_command, V* grad_instruction_register) {
  const V zero = {};
  for (int i = 0; i < kNumDistributions; ++i) {
    // Softmax: d logit_j = p_j (g_j - sum_l g_l p_l).
    const V* p = n.command.At(command, i);
    V* g = n.command.At(grad_command, i);
    const int64_t width = n.command.widths[i];
    const V mean = Dot(width, static_cast<const V*>(g), p);
    for (int64_t j = 0; j < width; ++j) {
      g[j] = running ? p[j] * (g[j] - mean) : zero;
    }
  }
  if (logits.shared != nullptr) {
    AddInstructionRegisterGradient(n, logits.shared, grad_command,
                                   grad_instruction_register);
  } else {
    AddInstructionRegisterGradient(n, logits.lanes, grad_command,
                                   grad_instruction_register);
  }
}

namespace {

// AddLogitsGradient's sums for rows [m, m + kRows) and columns
// [j, j + kColumns), held in registers over the steps.
template <int kRows, int kColumns, typename V>
void AddLogitsGradientBlock(int64_t size, int64_t count,
                            const V* const* instruction_registers,
                            const V* __restrict grad_commands, int64_t m,
                            int64_t j, V* __restrict grad_logits) {
  V sum[kRows][kColumns] = {};
  for (int64_t s = 0; s < count; ++s) {
    const V* __restrict ir = instruction_registers[s] + m;
    const V* __restrict g = grad_commands + s * size + j;
#pragma GCC unroll 4
    for (int r = 0; r < kRows; ++r) {
      const V ir_r = ir[r];
#pragma GCC unroll 4
      for (int c = 0; c < kColumns; ++c) sum[r][c] += ir_r * g[c];
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < kRows; ++r) {
#pragma GCC unroll 4
    for (int c = 0; c < kColumns; ++c) {
      grad_logits[(m + r) * size + j + c] += sum[r][c];
    }
  }
}

template <int kRows, typename V>
void AddLogitsGradientRows(int64_t size, int64_t count,
                           const V* const* instruction_registers,
                           const V* grad_commands, int64_t m,
                           V* grad_logits) {
  int64_t j = 0;
  for (; j + 4 <= size; j += 4) {
    AddLogitsGradientBlock<kRows, 4>(size, count, instruction_registers,
                                     grad_commands, m, j, grad_logits);
  }
  for (; j < size; ++j) {
    AddLogitsGradientBlock<kRows, 1>(size, count, instruction_registers,
                                     grad_commands, m, j, grad_logits);
  }
}

}  // namespace

template <typename V>
void AddLogitsGradient(const RunSizes& n, int64_t count,
                       const V* const* instruction_registers,
                       const V* grad_commands, V* grad_logits) {
  const int64_t size = n.command.size;
  int64_t m = 0;
  for (; m + 4 <= n.step.memory; m += 4) {
    AddLogitsGradientRows<4>(size, count, instruction_registers,
                             grad_commands, m, grad_logits);
  }
  for (; m < n.step.memory; ++m) {
    AddLogitsGradientRows<1>(size, count, instruction_registers,
                             grad_commands, m, grad_logits);
  }
}

// One example at a time and kLanes at a time, as the run ops need.
#define TF_ANC_INSTANTIATE_CONTROLLER(V)                                      \
  template void ControllerForward<V>(const RunSizes&, const ControllerLogits<V>&,  \
                                     const V*, V*);                           \
  template void ControllerBackward<V>(const RunSizes&, const ControllerLogits<V>&, \
                                      const V*, const Mask<V>&, V*, V*);      \
  template void AddLogitsGradient<V>(const RunSizes&, int64_t,                \
                                     const V* const*, const V*, V*);
TF_ANC_INSTANTIATE_CONTROLLER(float)
TF_ANC_INSTANTIATE_CONTROLLER(Lanes)
#undef TF_ANC_INSTANTIATE_CONTROLLER

}  // namespace tf_anc
