// The controller: each step's command is four softmaxes over
// `instruction_register @ logits`, with the logits of the example's restart
// ([M, 11] for the instruction, [M, R] for each register selection). The
// four logits matrices are packed side by side ([M, N], CommandLayout), so
// that a command's logits are one vector-matrix product.

#ifndef TF_ANC_OPS_CONTROLLER_H_
#define TF_ANC_OPS_CONTROLLER_H_

#include <algorithm>
#include <cstdint>
#include <vector>

#include "machine_run.h"
#include "vector_ops.h"
#include "tensorflow/core/framework/op_kernel.h"

namespace tf_anc {

// Each restart's four logits matrices side by side: [K, M, N], row m
// holding e's, a's, b's and o's logits for IR = m. Reads the op's logits
// inputs.
void PackLogits(::tensorflow::OpKernelContext* context, const RunSizes& n,
                float* packed);

// The logits ([M, N]) that a vector step's controller reads: those of one
// restart, when all the lanes run it (read as floats, broadcast to the
// lanes as they are used, a sixteenth of the lanes' size in the caches),
// else each lane's restart's, in lanes.
template <typename V>
struct ControllerLogits {
  const float* shared;  // or null
  const V* lanes;       // when shared is null
};

// Each lane's restart's logits, from the packed ones, kept as lanes take
// examples: in lanes only while the lanes run several restarts.
template <typename V>
class LaneLogits {
 public:
  LaneLogits(const RunSizes& n, const float* packed)
      : n_(n), packed_(packed), restarts_(LaneTraits<V>::kWidth, -1) {
    if (n.restarts > 1) lanes_.resize(n.logits);
  }

  // Gives `lane` example b's restart's logits.
  void Load(int64_t b, int lane) {
    const int64_t restart = b / (n_.batch / n_.restarts);
    if (restarts_[lane] == restart) return;
    restarts_[lane] = restart;
    if (!lanes_.empty()) {
      SetLane(packed_ + restart * n_.logits, n_.logits, lane, lanes_.data());
    }
  }

  // The logits for the lanes in `running`.
  ControllerLogits<V> For(const Mask<V>& running) const {
    int64_t restart = -1;
    for (int lane = 0; lane < LaneTraits<V>::kWidth; ++lane) {
      if (!LaneTraits<V>::Get(running, lane)) continue;
      if (restart >= 0 && restarts_[lane] != restart) {
        return {nullptr, lanes_.data()};
      }
      restart = restarts_[lane];
    }
    return {packed_ + std::max<int64_t>(restart, 0) * n_.logits, nullptr};
  }

 private:
  const RunSizes& n_;
  const float* packed_;
  std::vector<int64_t> restarts_;  // each lane's, or -1
  std::vector<V> lanes_;           // [M, N], when K > 1
};

// Writes the command for `instruction_register`: each distribution is the
// softmax of its part of instruction_register @ logits ([M, N]).
template <typename V>
void ControllerForward(const RunSizes& n, const ControllerLogits<V>& logits,
                       const V* instruction_register, V* command);

// From `grad_command`, the gradient with respect to the command's
// probabilities (overwritten with that of its logits, zero in the lanes
// that did not run), adds the gradient with respect to the instruction
// register. The logits' gradient, the outer product of the instruction
// register and grad_command, is left to AddLogitsGradient.
template <typename V>
void ControllerBackward(const RunSizes& n, const ControllerLogits<V>& logits,
                        const V* command, const Mask<V>& running,
                        V* grad_command, V* grad_instruction_register);

// Adds the logits' gradient ([M, N]) of `count` steps: sum_s
// instruction_registers[s] (outer) grad_commands[s], the steps'
// instruction registers ([M] each) and their commands' logits' gradients
// (ControllerBackward's; [count, N], contiguous). Summed over the steps in
// registers, block by block, then added: a step at a time, grad_logits
// would be loaded and stored once per multiply-add.
template <typename V>
void AddLogitsGradient(const RunSizes& n, int64_t count,
                       const V* const* instruction_registers,
                       const V* grad_commands, V* grad_logits);

}  // namespace tf_anc

#endif  // TF_ANC_OPS_CONTROLLER_H_
