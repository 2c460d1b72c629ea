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

// Each lane's restart's packed logits ([M, N] in lanes).
template <typename V>
void GatherLogits(const RunSizes& n, const Group<V>& group,
                  const float* packed, V* logits);

// Writes the command for `instruction_register`: each distribution is the
// softmax of its part of instruction_register @ logits ([M, N]).
template <typename V>
void ControllerForward(const RunSizes& n, const V* logits,
                       const V* instruction_register, V* command);

// From `grad_command`, the gradient with respect to the command's
// probabilities (overwritten with that of its logits, zero in the lanes
// that did not run), adds the gradients with respect to the logits
// ([M, N]) and to the instruction register.
template <typename V>
void ControllerBackward(const RunSizes& n, const V* logits,
                        const V* instruction_register, const V* command,
                        const Mask<V>& running, V* grad_command,
                        V* grad_logits, V* grad_instruction_register);

}  // namespace tf_anc

#endif  // TF_ANC_OPS_CONTROLLER_H_
