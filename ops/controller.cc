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

template <typename V>
void GatherLogits(const RunSizes& n, const Group<V>& group,
                  const float* packed, V* logits) {
  const int64_t examples_per_restart = n.batch / n.restarts;
  const int64_t first_restart = group.first / examples_per_restart;
  if ((group.first + group.count - 1) / examples_per_restart ==
      first_restart) {
    // The usual case, one restart for the whole group: broadcast its logits
    // (idle lanes too, where they meet a zero state and stay unread).
    const float* restart_logits = packed + first_restart * n.logits;
    for (int64_t e = 0; e < n.logits; ++e) {
      logits[e] = V{} + restart_logits[e];
    }
    return;
  }
  std::vector<const float*> rows(group.count);
  for (int lane = 0; lane < group.count; ++lane) {
    rows[lane] = packed + (group.first + lane) / examples_per_restart *
                              n.logits;
  }
  Gather(rows, n.logits, logits);
}

template <typename V>
void ControllerForward(const RunSizes& n, const V* logits,
                       const V* instruction_register, V* command) {
  const int64_t size = n.command.size;
  std::fill_n(command, size, V{});
  StridedDots(size, n.step.memory, instruction_register, logits, size,
              command);
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
void ControllerBackward(const RunSizes& n, const V* logits,
                        const V* instruction_register, const V* command,
                        const Mask<V>& running, V* grad_command,
                        V* grad_logits, V* grad_instruction_register) {
  const int64_t size = n.command.size;
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
  for (int64_t m = 0; m < n.step.memory; ++m) {
    Axpy(size, instruction_register[m], static_cast<const V*>(grad_command),
         grad_logits + m * size);
    grad_instruction_register[m] +=
        Dot(size, logits + m * size, static_cast<const V*>(grad_command));
  }
}

// One example at a time and kLanes at a time, as the run ops need.
#define TF_ANC_INSTANTIATE_CONTROLLER(V)                                      \
  template void GatherLogits<V>(const RunSizes&, const Group<V>&,             \
                                const float*, V*);                            \
  template void ControllerForward<V>(const RunSizes&, const V*, const V*,     \
                                     V*);                                     \
  template void ControllerBackward<V>(const RunSizes&, const V*, const V*,    \
                                      const V*, const Mask<V>&, V*, V*, V*);
TF_ANC_INSTANTIATE_CONTROLLER(float)
TF_ANC_INSTANTIATE_CONTROLLER(Lanes)
#undef TF_ANC_INSTANTIATE_CONTROLLER

}  // namespace tf_anc
