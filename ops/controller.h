// The controller: each step's command is four softmaxes over
// `instruction_register @ logits`, with the logits of the example's restart
// ([M, 11] for the instruction, [M, R] for each register selection). The
// four logits matrices are packed side by side ([M, N], CommandLayout), so
// that a command's logits are one vector-matrix product.

#ifndef TF_ANC_OPS_CONTROLLER_H_
#define TF_ANC_OPS_CONTROLLER_H_

#include "machine_run.h"
#include "vector_ops.h"
#include "tensorflow/core/framework/op_kernel.h"

namespace tf_anc {

// Each restart's four logits matrices side by side: [K, M, N], row m
// holding e's, a's, b's and o's logits for IR = m. Reads the op's logits
// inputs.
void PackLogits(::tensorflow::OpKernelContext* context, const RunSizes& n,
                float* packed);

// A group's logits ([M, N]): those of its restart when all its lanes run
// one (the usual case: read as floats, broadcast to the lanes as they are
// used, a sixteenth of the lanes' size in the caches), else each lane's
// restart's, in lanes.
template <typename V>
struct GroupLogits {
  const float* shared;  // or null
  const V* lanes;       // when shared is null
};

// The group's logits from the packed ones; gathers them into `lanes`
// (resized to [M, N]) only when the group's examples run several restarts.
template <typename V>
GroupLogits<V> GatherLogits(const RunSizes& n, const Group<V>& group,
                            const float* packed, std::vector<V>* lanes);

// Writes the command for `instruction_register`: each distribution is the
// softmax of its part of instruction_register @ logits ([M, N]).
template <typename V>
void ControllerForward(const RunSizes& n, const GroupLogits<V>& logits,
                       const V* instruction_register, V* command);

// From `grad_command`, the gradient with respect to the command's
// probabilities (overwritten with that of its logits, zero in the lanes
// that did not run), adds the gradient with respect to the instruction
// register. The logits' gradient, the outer product of the instruction
// register and grad_command, is left to AddLogitsGradient.
template <typename V>
void ControllerBackward(const RunSizes& n, const GroupLogits<V>& logits,
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
