// The arithmetic of one step of the differentiable machine (spec section 2)
// for one example, forward and backward: the shared core of the step ops
// (machine_step.cc) and the whole-run ops (machine_run.cc). No TensorFlow
// here; pointers address one example's slice of a batch.
//
// Every value is a distribution over [0, M). A step costs O(M^2 + R M): the
// ADD/SUB convolutions, READ and WRITE are the M^2 terms, MIN/MAX use
// cumulative sums.

#ifndef TF_ANC_OPS_STEP_ARITHMETIC_H_
#define TF_ANC_OPS_STEP_ARITHMETIC_H_

#include <cstdint>
#include <vector>

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

// One example's machine state, or the gradient of a loss with respect to it.
struct State {
  const float* memory;                // [M, M]
  const float* registers;             // [R, M]
  const float* instruction_register;  // [M]
  float halting;
};

// Where a step writes one example's next state (or a state's gradient).
struct MutableState {
  float* memory;
  float* registers;
  float* instruction_register;
  float* halting;
};

// One example's command: the controller's four distributions.
struct Command {
  const float* instruction;      // [kNumInstructions], e
  const float* first_argument;   // [R], a: selects x
  const float* second_argument;  // [R], b: selects y
  const float* output;           // [R], o: the register written
};

struct MutableCommand {
  float* instruction;
  float* first_argument;
  float* second_argument;
  float* output;
};

// Scratch space for one step of one example; one per thread, reused across
// examples and steps.
struct StepScratch {
  explicit StepScratch(const Sizes& sizes);

  std::vector<float> x, y, out;
  // Each instruction's result distribution, and the cumulative sums behind
  // MIN and MAX, which the backward pass reuses.
  std::vector<float> add, sub, minimum, maximum, read;
  std::vector<float> x_above, x_below, y_at_or_above, y_at_or_below;
  std::vector<float> grad_x, grad_y, grad_out;
};

// Rough cycles of one step (forward or backward) of one example: the M^2
// loops dominate.
inline int64_t StepCost(const Sizes& sizes) {
  return 20 * sizes.memory * sizes.memory + 10 * sizes.registers * sizes.memory;
}

// next = step(state, command). `next` must not alias `state`.
void StepForward(const Sizes& sizes, const State& state,
                 const Command& command, StepScratch* scratch,
                 const MutableState& next);

// From the gradient with respect to the next state, writes (overwrites) the
// gradients with respect to the state and the command. Recomputes x, y and
// the ALU results instead of keeping them from the forward pass. Outputs
// must not alias inputs.
void StepBackward(const Sizes& sizes, const State& state,
                  const Command& command, const State& grad_next,
                  StepScratch* scratch, const MutableState& grad_state,
                  const MutableCommand& grad_command);

}  // namespace tf_anc

#endif  // TF_ANC_OPS_STEP_ARITHMETIC_H_
