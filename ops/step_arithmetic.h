// The arithmetic of one step of the differentiable machine (docs/anc-machine.md),
// forward and backward, for the run ops (machine_run.h): kLanes examples at
// a time (V = Lanes), or one (V = float) for a batch too small to fill the
// lanes. No TensorFlow here; pointers address one example's (or one group
// of lanes') values.
//
// Every value is a distribution over [0, M). A step costs O(M^2 + R M): the
// ADD/SUB convolutions, READ and WRITE are the M^2 terms, MIN/MAX use
// cumulative sums. The M^2 loops run over contiguous arrays (the cyclic
// convolutions over doubled arrays) so that they vectorise.

#ifndef TF_ANC_OPS_STEP_ARITHMETIC_H_
#define TF_ANC_OPS_STEP_ARITHMETIC_H_

#include <cstdint>
#include <vector>

#include "vector_ops.h"

namespace tf_anc {

// Instruction indices, in tf_anc/isa.py's order.
enum Instruction {
  kStop, kZero, kInc, kAdd, kSub, kDec, kMin, kMax, kRead, kWrite, kJez,
  kNumInstructions
};

struct Sizes {
  int64_t memory;     // M
  int64_t registers;  // R
};

// The machine state, or the gradient of a loss with respect to it.
template <typename V>
struct State {
  const V* memory;                // [M, M]
  const V* registers;             // [R, M]
  const V* instruction_register;  // [M]
  V halting;
};

// Where a step writes the next state (or a state's gradient).
template <typename V>
struct MutableState {
  V* memory;
  V* registers;
  V* instruction_register;
  V* halting;
};

// A command: the controller's four distributions.
template <typename V>
struct Command {
  const V* instruction;      // [kNumInstructions], e
  const V* first_argument;   // [R], a: selects x
  const V* second_argument;  // [R], b: selects y
  const V* output;           // [R], o: the register written
};

template <typename V>
struct MutableCommand {
  V* instruction;
  V* first_argument;
  V* second_argument;
  V* output;
};

// What a step computes on the way to the next state that its backward pass
// reads again and would otherwise recompute at an O(M^2) cost: x, y, the
// mixed result and READ's result, M values each; and the reciprocals of
// the masses of x's and y's register mixtures, which x and y are rescaled
// by (step.py's select_argument says why). StepValuesSize() in all. (ADD's
// and SUB's results are not kept: the backward pass takes what it needs of
// them from the convolution of x with the output gradient, which it
// computes anyway.) `T` is V (written by ComputeStepValues) or const V.
template <typename T>
struct StepValues {
  StepValues(const Sizes& n, T* data)
      : x(data), y(x + n.memory), out(y + n.memory), read(out + n.memory),
        x_mass_inverse(read + n.memory), y_mass_inverse(x_mass_inverse + 1) {}

  T* x;
  T* y;
  T* out;
  T* read;
  T* x_mass_inverse;
  T* y_mass_inverse;
};

inline int64_t StepValuesSize(const Sizes& n) { return 4 * n.memory + 2; }

// Scratch space for one step; one per thread, reused across steps.
template <typename V>
struct StepScratch {
  explicit StepScratch(const Sizes& n);

  // Both ways: ADD's and SUB's weights, z = e_ADD y + e_SUB y reversed
  // (ADD and SUB together are the convolution of x with z), doubled
  // cyclically; the cumulative sums of x above c and of y at or above c,
  // MIN's and MAX's suffixes. Forward: x padded cyclically by one each
  // side.
  std::vector<V> z_doubled, x_above, y_at_or_above, x_padded;
  // Backward: the output gradient doubled cyclically, the gradients of x,
  // y, z and the mixed result.
  std::vector<V> grad_out_doubled, grad_x, grad_y, grad_z, grad_out;
};

// Rough cycles of one step (forward or backward) of one example: the M^2
// loops dominate.
inline int64_t StepCost(const Sizes& sizes) {
  return 6 * sizes.memory * sizes.memory + 6 * sizes.registers * sizes.memory;
}

// Fills `values` for `state` and `command`.
template <typename V>
void ComputeStepValues(const Sizes& n, const State<V>& state,
                       const Command<V>& command, StepScratch<V>* scratch,
                       const StepValues<V>& values);

// next = step(state, command), from the step's values. `next` may be
// `state` (a step in place) or apart from it, not partly overlapping.
template <typename V>
void ApplyStep(const Sizes& n, const State<V>& state,
               const Command<V>& command, const StepValues<const V>& values,
               const MutableState<V>& next);

// From the gradient with respect to the next state, writes (overwrites) the
// gradients with respect to the state and the command. `values` are the
// step's (ComputeStepValues). The memory's and registers' gradients may be
// taken in place (grad_state.memory == grad_next.memory, and likewise the
// registers): each value is read before it is written. Other outputs must
// not alias inputs.
template <typename V>
void StepBackward(const Sizes& n, const State<V>& state,
                  const Command<V>& command,
                  const StepValues<const V>& values,
                  const State<V>& grad_next, StepScratch<V>* scratch,
                  const MutableState<V>& grad_state,
                  const MutableCommand<V>& grad_command);

}  // namespace tf_anc

#endif  // TF_ANC_OPS_STEP_ARITHMETIC_H_
